import type { z } from "zod";
import { PLATFORM_SECTIONS, type PlatformConfig, type SectionName } from "../config/schema";
import { SECRET_KEYS } from "../config/secrets";
import { ConfigError, type ConfigProblem, type PathProblem, problem, yamlPath } from "../config/errors";
import { crossFieldProblems } from "./rules";
import { providerProblems } from "./rules/provider";
import { explain, REFERENCE } from "./explain";
import { closest } from "../config/suggest";
import { secretSetCommand } from "./secret-commands";

export interface ParseOptions {
  /** Config keys (without namespace) that Pulumi holds as secrets. */
  readonly secretKeys: ReadonlySet<string>;
  /** Named in the error, e.g. "stacks/Pulumi.prod.yaml". */
  readonly source?: string;
  /** Line and column of a YAML path (`retrieval-stack:models[0].engine`) in the stack file, where it has one. */
  readonly locate?: (path: string) => { readonly line: number; readonly column: number } | undefined;
  /** Problems found while reading the file (namespaces, .inf): root causes, reported first. */
  readonly fileProblems?: readonly ConfigProblem[];
  /** Keys of other namespaces the rules compare with, e.g. `aws:region`. */
  readonly otherConfig?: Readonly<Record<string, unknown>>;
}

/**
 * Validates a whole stack config and returns it typed, or throws a ConfigError that lists every problem.
 * Each section is parsed on its own, so that one bad section does not hide the problems of the others; the
 * cross-field rules then run over every section that parsed. Root causes come first: problems of the file and of
 * the schema, then the rules; a rule's problem at a path the schema already reported is left out.
 */
export function parsePlatformConfig(raw: Record<string, unknown>, options: ParseOptions): PlatformConfig {
  const early: PathProblem[] = [];
  const known = [...Object.keys(PLATFORM_SECTIONS), ...SECRET_KEYS];
  for (const key of Object.keys(raw)) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    early.push(
      problem(
        [key],
        raw[key],
        "unknown config key",
        near
          ? `did you mean "${near}"? Rename it to retrieval-stack:${near}`
          : `remove it, or use one of ${known.join(", ")} (${REFERENCE})`,
      ),
    );
  }

  // Secret keys: refuse plain text, then gather them under `secrets`.
  const secretsRaw: Record<string, unknown> = {};
  for (const key of SECRET_KEYS) {
    if (raw[key] === undefined) continue;
    if (!options.secretKeys.has(key)) {
      early.push(
        problem(
          [key],
          "(plain text, value hidden)",
          "is a secret but is stored in plain text in the stack file",
          `pulumi config rm ${key} && ${secretSetCommand(key)}`,
        ),
      );
      continue;
    }
    secretsRaw[key] = decodeJson(raw[key]);
  }

  const parsed: Record<string, unknown> = {};
  const inputs: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(PLATFORM_SECTIONS) as [SectionName, z.ZodTypeAny][]) {
    const input = name === "secrets" ? secretsRaw : decodeJson(raw[name]);
    inputs[name] = input;
    const result = schema.safeParse(input);
    if (result.success) {
      parsed[name] = result.data;
      continue;
    }
    if (name === "models" && Array.isArray(input)) parsed.models = parseEachModel(input);
    for (const issue of result.error.issues) {
      for (const e of explain(issue, schema, input)) {
        // Secret values are never echoed back.
        if (name === "secrets") early.push({ ...e, value: "(secret, value hidden)" });
        else early.push({ ...e, path: [name, ...e.path] });
      }
    }
  }

  // The file's own problems (a .inf read as null) explain what the schema then says about the same path.
  const fromFile = new Set((options.fileProblems ?? []).map((p) => p.path));
  const schemaProblems = early.filter((p) => !fromFile.has(yamlPath(p.path)));
  const reported = new Set([...fromFile, ...schemaProblems.map((p) => yamlPath(p.path))]);
  const later = [
    ...crossFieldProblems(parsed as Partial<PlatformConfig>),
    // Only a whole stack's config has the other namespaces; a library caller's sections alone are not judged by them.
    ...(options.otherConfig ? providerProblems(parsed as Partial<PlatformConfig>, options.otherConfig) : []),
  ].filter((p) => !reported.has(yamlPath(p.path)));

  const problems = [
    ...(options.fileProblems ?? []),
    ...[...schemaProblems, ...later].map((p) => located(p, inputs, options)),
  ];
  if (problems.length > 0) throw new ConfigError(dedupe(problems), options.source);
  return parsed as PlatformConfig;
}

/** Adds the model's name and the file position to a problem. */
function located(p: PathProblem, inputs: Record<string, unknown>, options: ParseOptions): ConfigProblem {
  const path = yamlPath(p.path);
  const [section, index] = p.path;
  const entry = section === "models" && typeof index === "number" ? (inputs.models as unknown[])?.[index] : undefined;
  const name = entry && typeof entry === "object" ? (entry as { name?: unknown }).name : undefined;
  const at = locateNearest(path, options.locate);
  return {
    path,
    value: p.value,
    message: p.message,
    ...(typeof name === "string" ? { model: name } : {}),
    ...(at ? { line: at.line, column: at.column } : {}),
  };
}

/** The position of the path, or of its nearest ancestor (a missing key is reported where its parent is). */
function locateNearest(path: string, locate: ParseOptions["locate"]) {
  if (!locate) return undefined;
  for (let p = path; p; p = p.replace(/(\[[^\]]*\]|\.[^.[]*)$/, "")) {
    const at = locate(p);
    if (at) return at;
    if (!/(\[[^\]]*\]|\.[^.[]*)$/.test(p)) break;
  }
  return undefined;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * When some models are invalid, the valid ones still go through the cross-field rules, at their own indices
 * (a sparse array), so that one typo does not hide another model's problems.
 */
function parseEachModel(input: unknown[]): PlatformConfig["models"] {
  const models: PlatformConfig["models"] = [];
  input.forEach((m, i) => {
    const r = PLATFORM_SECTIONS.models.element.safeParse(m);
    if (r.success) models[i] = r.data;
  });
  models.length = input.length; // a failed last model leaves a hole too
  return models;
}

/** `pulumi config set` stores lists and maps given on the command line as JSON strings. */
function decodeJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const t = value.trim();
  if (t === "null") return null; // an empty section (`observability:` with nothing under it)
  if (!(t.startsWith("{") || t.startsWith("["))) return value;
  try {
    return JSON.parse(t);
  } catch {
    return value;
  }
}
