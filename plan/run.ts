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
  readonly outDir: string;
  readonly plan?: RenderedPlan;
  /** Every resource as registered, with parents and dependencies (for tests of ordering). */
  readonly recorded?: readonly RecordedResource[];
  readonly config?: PlatformConfig;
}

const ROOT = path.resolve(__dirname, "..");

/**
 * Evaluates the real Pulumi program offline for one stack, validates every Kubernetes object, and writes
 * manifests/, resources.json and plan.md. On any error nothing is written.
 */
export async function runPlan(options: PlanOptions): Promise<PlanResult> {
  const configFile = path.resolve(options.configFile ?? path.join(ROOT, "stacks", `Pulumi.${options.stack}.yaml`));
  const outDir = path.resolve(options.outDir ?? path.join(ROOT, "out", options.stack));
  const fail = (errors: string[]): PlanResult => ({ ok: false, errors, outDir });
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
  const onRejection = (reason: unknown) =>
    asyncErrors.push(`program error: ${reason instanceof Error ? reason.message : String(reason)}`);
  process.on("unhandledRejection", onRejection);
  try {
    await import(options.program ?? path.join(ROOT, "index"));
    await runtime.settle();
  } catch (e) {
    return fail([`program error: ${(e as Error).message}`]);
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  if (asyncErrors.length) return fail(asyncErrors);
  if (pulumi.log.hasErrors()) return fail(["the program logged errors (see above)"]);

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
  const summary = renderSummary({ stack: options.stack, config, plan, placeholders: stackConfig.placeholders });
  files.set("plan.md", summary);

  const leaks = [...files].flatMap(([f, text]) =>
    findLeakedPlaceholders(text).map((l) => `secret leaked in clear into ${f}: ${l}`),
  );
  if (leaks.length) return fail(leaks);

  fs.rmSync(outDir, { recursive: true, force: true });
  for (const [f, text] of files) {
    fs.mkdirSync(path.dirname(path.join(outDir, f)), { recursive: true });
    fs.writeFileSync(path.join(outDir, f), text);
  }
  return { ok: true, errors: [], summary, outDir, plan, config, recorded: runtime.resources };
}

export function listStacks(): string[] {
  return fs
    .readdirSync(path.join(ROOT, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s);
}
