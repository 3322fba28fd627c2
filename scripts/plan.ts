// `npm run plan -- --stack <name> [--config-file <path>] [--out <dir>] [--against <dir|ref>]`: the offline render
// of a stack. Arguments are checked before anything heavy loads (plan/args.ts only needs node: modules).
import { spawnSync } from "node:child_process";
import { parsePlanArgs, usage, type PlanArgs } from "../plan/args";

/** Set in the re-run that maps a failing program's stack traces to TypeScript lines (see main). */
const SOURCE_MAPS_ENV = "RETRIEVAL_STACK_PLAN_SOURCE_MAPS";
/** Another Pulumi program than index.ts (tests: a program that fails). */
const PROGRAM_ENV = "RETRIEVAL_STACK_PLAN_PROGRAM";

async function plan(args: PlanArgs): Promise<number> {
  const { runPlan } = await import("../plan/run");
  const result = await runPlan({
    stack: args.stack,
    configFile: args.configFile,
    outDir: args.outDir,
    program: process.env[PROGRAM_ENV] || undefined,
  });
  if (!result.ok) {
    // Source maps were off for speed (Pulumi formats a stack trace for every promise it tracks); a failing program
    // is evaluated once more with them on, so the error names TypeScript lines, not transpiled ones.
    if (result.programFailed && process.env[SOURCE_MAPS_ENV] !== "1") return rerunWithSourceMaps();
    console.error(`plan failed for stack "${args.stack}"; nothing was written (stale plan files removed).`);
    for (const e of result.errors) console.error(e);
    return 1;
  }
  for (const w of result.warnings ?? []) console.error(`warning: ${w}`);
  let summary = result.summary ?? "";
  if (args.against) {
    const { againstPlan } = await import("../plan/against");
    const diff = await againstPlan({ args, outDir: result.outDir, files: result.files! });
    if (!diff.ok) {
      console.error(`plan --against ${args.against}: ${diff.error}`);
      return 1;
    }
    summary = diff.planMd;
  }
  if (!args.quiet) console.log(summary);
  console.log(
    `wrote ${result.outDir} (manifests/, resources.json, outputs.json, plan.md${args.against ? ", diff.md, diff.json" : ""})`,
  );
  return 0;
}

function rerunWithSourceMaps(): number {
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, [SOURCE_MAPS_ENV]: "1" },
  });
  return r.status ?? 1;
}

async function main(): Promise<number> {
  const parsed = parsePlanArgs(process.argv.slice(2));
  if (parsed.kind === "help") {
    console.log(usage());
    return 0;
  }
  if (parsed.kind === "error") {
    console.error(`plan: ${parsed.message}`);
    console.error(usage());
    return 2;
  }
  if (process.env[SOURCE_MAPS_ENV] !== "1") process.setSourceMapsEnabled(false);
  return plan(parsed.args);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Not a usage mistake: an unexpected failure of the plan itself. One line, no stack (set DEBUG for it).
    console.error(`plan failed: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.DEBUG) console.error(e);
    process.exit(1);
  },
);
