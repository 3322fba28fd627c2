// The command line of `npm run plan`. Light on purpose: only node: modules, so that usage and argument mistakes are
// answered before scripts/plan.ts loads the Pulumi runtime and the components (seconds).
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

export const ROOT = path.resolve(__dirname, "..");

export interface PlanArgs {
  /** Names out/<stack> and the plan's title. */
  readonly stack: string;
  readonly configFile?: string;
  readonly outDir?: string;
  /** A previous plan to compare with: an out directory or a git ref. */
  readonly against?: string;
  readonly quiet: boolean;
}

export type ParsedArgs = { kind: "help" } | { kind: "plan"; args: PlanArgs } | { kind: "error"; message: string };

const OPTIONS = {
  stack: { type: "string" },
  "config-file": { type: "string" },
  out: { type: "string" },
  against: { type: "string" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export function listStacks(): string[] {
  return fs
    .readdirSync(path.join(ROOT, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}

export function usage(): string {
  return `usage: npm run plan -- --stack <name> [--out <dir>] [--against <dir|git ref>] [--quiet]
       npm run plan -- --config-file <path/to/Pulumi.<name>.yaml> [--out <dir>] [--against <dir|git ref>]

  --stack NAME        any stacks/Pulumi.<NAME>.yaml (here: ${listStacks().join(", ")})
  --config-file PATH  a stack file anywhere; the plan is named after it (Pulumi.<name>.yaml -> <name>)
  --out DIR           where to write (default out/<name>): manifests/, resources.json, outputs.json, plan.md
  --against REF       compare with a previous plan: an out directory or a git ref (main, HEAD~1, a SHA);
                      the changes go into plan.md and diff.md
  --quiet             do not print plan.md on stdout
  --help              this text

Offline: no cloud credentials, no Pulumi CLI. Exit status: 0 planned, 1 the plan failed, 2 usage error.`;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (!best || d < best.d) best = { c, d };
  }
  return best && best.d <= Math.max(2, Math.floor(best.c.length / 3)) ? best.c : undefined;
}

/**
 * `npm run plan --stack dev` (without `--`): npm takes `--stack` as its own config and sets npm_config_stack
 * (`--stack=dev` -> "dev"; `--stack dev` -> "true", and "dev" reaches the script as a bare argument). Only npm sets
 * these variables. Returns the command line the user meant, or undefined.
 */
function eatenByNpm(env: NodeJS.ProcessEnv, positionals: string[]): string | undefined {
  const rest = [...positionals];
  const parts: string[] = [];
  for (const [o, spec] of Object.entries(OPTIONS)) {
    const v = env[`npm_config_${o.replace(/-/g, "_")}`];
    if (v === undefined) continue;
    if (spec.type === "boolean") parts.push(`--${o}`);
    else if (v !== "true" && v !== "") parts.push(`--${o} ${v}`);
    else parts.push(`--${o} ${rest.shift() ?? "<value>"}`);
  }
  return parts.length ? [...parts, ...rest].join(" ") : undefined;
}

export function parsePlanArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const error = (message: string): ParsedArgs => ({ kind: "error", message });
  let values: { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true }));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = (e as Error).message;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const flag = /'(-{1,2}[^'\s]+)'/.exec(msg)?.[1] ?? argv.find((a) => a.startsWith("-")) ?? "?";
      const name = flag.replace(/^-+/, "").split("=")[0]!;
      const guess = closest(name, Object.keys(OPTIONS));
      return error(`unknown option ${flag}${guess ? `; did you mean --${guess}?` : ""}`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const flag = /--([\w-]+)/.exec(msg)?.[1];
      return error(flag ? `--${flag} needs a value, e.g. --${flag} ${example(flag)}` : msg.split("\n")[0]!);
    }
    return error(msg.split("\n")[0]!);
  }
  if (values.help) return { kind: "help" };
  const meant = eatenByNpm(env, positionals);
  if (meant && !values.stack && !values["config-file"])
    return error(`npm took the options as its own; did you forget \`--\`? Run: npm run plan -- ${meant}`);
  // `--stack --out x`: parseArgs takes "--out" as the value of --stack.
  for (const o of ["stack", "config-file", "out", "against"] as const) {
    const v = values[o];
    if (typeof v === "string" && (v === "" || v.startsWith("--")))
      return error(`--${o} needs a value, e.g. --${o} ${example(o)}`);
  }
  if (positionals.length)
    return error(
      `unexpected argument "${positionals[0]}"${listStacks().includes(positionals[0]!) ? `; did you mean --stack ${positionals[0]}?` : ""}`,
    );

  const { stack, "config-file": configFile } = values;
  if (!stack && !configFile) return error("missing --stack <name> (or --config-file <path>)");
  if (stack !== undefined) {
    const fromPath = /(?:^|[/\\])Pulumi\.([^/\\]+)\.ya?ml$/.exec(stack);
    if (fromPath || /[/\\]|\.ya?ml$/.test(stack))
      return error(
        `--stack takes a stack name, not a file; did you mean ${fromPath ? `--stack ${fromPath[1]} or ` : ""}--config-file ${stack}?`,
      );
    if (!configFile && !listStacks().includes(stack)) {
      const guess = closest(stack, listStacks());
      return error(
        `no stack "${stack}" (no stacks/Pulumi.${stack}.yaml)${guess ? `; did you mean --stack ${guess}?` : ""}; stacks: ${listStacks().join(", ")}`,
      );
    }
  }
  if (configFile !== undefined && !fs.existsSync(configFile)) return error(`--config-file ${configFile}: no such file`);
  // Without --stack the plan is named after the file: Pulumi.<name>.yaml -> <name>, other.yaml -> other.
  const name =
    stack ??
    /Pulumi\.([^/\\]+)\.ya?ml$/.exec(configFile!)?.[1] ??
    path.basename(configFile!).replace(/\.ya?ml$/, "") ??
    "custom";
  return {
    kind: "plan",
    args: {
      stack: name,
      configFile,
      outDir: values.out,
      against: values.against,
      quiet: values.quiet ?? false,
    },
  };
}

function example(flag: string): string {
  switch (flag) {
    case "stack":
      return listStacks()[0] ?? "dev";
    case "config-file":
      return "stacks/Pulumi.dev.yaml";
    case "out":
      return "out/dev";
    case "against":
      return "main";
    default:
      return "<value>";
  }
}
