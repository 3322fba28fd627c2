// `npm run plan -- --stack <name> [--config-file <path>] [--out <dir>]`: the offline render of a stack.
import { parseArgs } from "node:util";
import { runPlan, listStacks } from "../plan/run";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      "config-file": { type: "string" },
      out: { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help || (!values.stack && !values["config-file"])) {
    console.log(`usage: npm run plan -- --stack <${listStacks().join("|")}> [--config-file <path>] [--out <dir>]`);
    return values.help ? 0 : 2;
  }
  // Without --stack, the stack is named after the file (Pulumi.<stack>.yaml).
  const stack = values.stack ?? /Pulumi\.([^/]+)\.yaml$/.exec(values["config-file"] ?? "")?.[1] ?? "custom";
  const result = await runPlan({ stack, configFile: values["config-file"], outDir: values.out });
  if (!result.ok) {
    console.error(`plan failed for stack "${stack}"; nothing was written.`);
    for (const e of result.errors) console.error(e);
    return 1;
  }
  if (!values.quiet) console.log(result.summary);
  console.log(`wrote ${result.outDir} (manifests/, resources.json, plan.md)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
