import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { ConfigError, type PlatformConfig } from "../components/config";
import { parseStackConfig } from "../components/validation";
import { OfflineRuntime, type RecordedResource } from "./offline";
import { readStackFile } from "./stack-file";
import { renderPlan, manifestPath, type RenderedPlan } from "./render";
import { validateObjects, type ValidationFailure } from "./validate";
import { findLeakedPlaceholders } from "./redact";
import { renderSummary } from "./summary";
import { formatFinding, planPolicyReport } from "./policy";
import { stackOutputs } from "./outputs";
import { listStacks, ROOT } from "./args";
import { planWarnings } from "./warnings";

export { listStacks };

/** What a plan writes into its out directory; a failed plan removes these so no stale plan.md is left behind. */
export const PLAN_FILES = ["manifests", "resources.json", "outputs.json", "plan.md", "diff.md", "diff.json"];

export interface PlanOptions {
  readonly stack: string;
  /** Defaults to stacks/Pulumi.<stack>.yaml. */
  readonly configFile?: string;
  /** Defaults to out/<stack>. */
  readonly outDir?: string;
  /** The program to evaluate; defaults to the project's index.ts. */
  readonly program?: string;
  /** Hook for tests: change the rendered plan before validation (e.g. to prove the validator can fail). */
  readonly tamper?: (plan: RenderedPlan) => void;
}

export interface PlanResult {
  readonly ok: boolean;
  /** Each problem on its own line; empty when ok. */
  readonly errors: string[];
  readonly summary?: string;
  /** Choices that plan but weaken production (plan/warnings.ts), also at the top of plan.md. */
  readonly warnings?: string[];
  readonly outDir: string;
  readonly plan?: RenderedPlan;
  /** Every resource as registered, with parents and dependencies (for tests of ordering). */
  readonly recorded?: readonly RecordedResource[];
  readonly config?: PlatformConfig;
  /** The program itself threw or logged an error (not a config, schema or policy problem). */
  readonly programFailed?: boolean;
  /** The files written, by path relative to outDir (before writing), for a caller that adds to them (--against). */
  readonly files?: Map<string, string>;
}

/**
 * Evaluates the real Pulumi program offline for one stack, validates every Kubernetes object, and writes
 * manifests/, resources.json and plan.md. On any error nothing is written.
 */
export async function runPlan(options: PlanOptions): Promise<PlanResult> {
  const configFile = path.resolve(options.configFile ?? path.join(ROOT, "stacks", `Pulumi.${options.stack}.yaml`));
  const outDir = path.resolve(options.outDir ?? path.join(ROOT, "out", options.stack));
  const fail = (errors: string[], programFailed = false): PlanResult => {
    removeStaleOutput(outDir);
    return { ok: false, errors, outDir, programFailed };
  };
  if (!fs.existsSync(configFile))
    return fail([`stack file not found: ${configFile} (stacks: ${listStacks().join(", ")})`]);

  let stackConfig;
  try {
    stackConfig = readStackFile(configFile);
  } catch (e) {
    return fail([`cannot read ${configFile}: ${(e as Error).message}`]);
  }
  const relative = path.relative(process.cwd(), configFile);
  const source = relative && !relative.startsWith("..") ? relative : configFile;

  // Validate config first: a bad stack file fails before the program creates anything.
  let config: PlatformConfig;
  try {
    config = parseStackConfig({ ...stackConfig, fileProblems: stackConfig.problems }, source);
  } catch (e) {
    return fail(e instanceof ConfigError ? e.message.split("\n") : [(e as Error).message]);
  }

  const runtime = await OfflineRuntime.start({
    stack: options.stack,
    config: stackConfig.config,
    secretKeys: stackConfig.secretKeys,
  });
  const asyncErrors: string[] = [];
  const onRejection = (reason: unknown) => asyncErrors.push(programError(reason));
  process.on("unhandledRejection", onRejection);
  let program: Record<string, unknown>;
  try {
    program = (await import(options.program ?? path.join(ROOT, "index"))) as Record<string, unknown>;
    await runtime.settle();
  } catch (e) {
    return fail([programError(e)], true);
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  if (asyncErrors.length) return fail(asyncErrors, true);
  if (pulumi.log.hasErrors()) return fail(["the program logged errors (see above)"], true);

  const plan = renderPlan(runtime.resources);
  options.tamper?.(plan);
  const failures: ValidationFailure[] = await validateObjects(plan.objects);
  if (failures.length) return fail(failures.map((f) => `invalid ${f.object}: ${f.error}`));

  // Policy pack (policy/), the same rules `pulumi preview --policy-pack policy` runs: a mandatory violation fails the
  // plan; advisory findings are listed in plan.md (plan/summary-policy.ts).
  const policy = planPolicyReport(plan, config);
  if (policy.mandatory.length) return fail(policy.mandatory.map(formatFinding));

  const files = new Map<string, string>();
  for (const obj of plan.objects)
    files.set(path.join("manifests", manifestPath(obj)), YAML.stringify(obj, { lineWidth: 0 }));
  for (const h of plan.helmReleases)
    files.set(path.join("manifests", "helm", `${h.resourceName}.yaml`), YAML.stringify(h, { lineWidth: 0 }));
  files.set("resources.json", JSON.stringify(plan.resources, null, 2));
  files.set("outputs.json", JSON.stringify(await stackOutputs(program), null, 2) + "\n");
  const summary = renderSummary({ stack: options.stack, config, plan, placeholders: stackConfig.placeholders });
  files.set("plan.md", summary);

  const leaks = [...files].flatMap(([f, text]) =>
    findLeakedPlaceholders(text).map((l) => `secret leaked in clear into ${f}: ${l}`),
  );
  if (leaks.length) return fail(leaks);

  writePlanFiles(outDir, files);
  const warnings = planWarnings(config);
  return { ok: true, errors: [], summary, warnings, outDir, plan, config, recorded: runtime.resources, files };
}

/** Replaces the plan in outDir with these files (relative paths); other files in outDir are left alone. */
export function writePlanFiles(outDir: string, files: ReadonlyMap<string, string>): void {
  removeStaleOutput(outDir);
  for (const [f, text] of files) {
    fs.mkdirSync(path.dirname(path.join(outDir, f)), { recursive: true });
    fs.writeFileSync(path.join(outDir, f), text);
  }
}

function removeStaleOutput(outDir: string): void {
  for (const f of PLAN_FILES) fs.rmSync(path.join(outDir, f), { recursive: true, force: true });
  // An out directory left empty is removed too: a failed first plan leaves nothing behind.
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length === 0) fs.rmdirSync(outDir);
}

/** A program error in one line, with the TypeScript position of the first frame in our code when the stack has one. */
export function programError(e: unknown): string {
  if (!(e instanceof Error)) return `program error: ${String(e)}`;
  const frame = (e.stack ?? "")
    .split("\n")
    .slice(1)
    .map((l) => /\(?((?:\/|[A-Za-z]:\\)[^()]+?):(\d+):(\d+)\)?$/.exec(l.trim()))
    .find((m) => m && !m[1]!.includes(`${path.sep}node_modules${path.sep}`) && m[1]!.startsWith(ROOT));
  const at = frame ? ` (at ${path.relative(ROOT, frame[1]!)}:${frame[2]}:${frame[3]})` : "";
  return `program error: ${e.message}${at}`;
}
