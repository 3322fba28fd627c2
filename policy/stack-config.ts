// `npx tsx policy/stack-config.ts --stack <name> [--config-file <path>] [--out <file>]`
// Writes the `--policy-pack-config` file for one stack: its environment and the GPU node groups that opted into spot
// capacity in prod, read from the stack file through the same schema the program uses. CI runs it before
// `pulumi preview/up --policy-pack policy`, so the pack judges each stack by its own environment profile.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { PlatformConfig } from "../components/config";
import { parseStackConfig } from "../components/validation";
import { readStackFile } from "../plan/stack-file";
import { contextFromConfig, policyPackConfigFor } from "./context";
import { POLICY_RULES } from "./rules";

export function readStackConfig(configFile: string): PlatformConfig {
  const stack = readStackFile(configFile);
  return parseStackConfig({ ...stack, fileProblems: stack.problems }, configFile);
}

export function policyConfigForStackFile(configFile: string): string {
  return `${JSON.stringify(policyPackConfigFor(contextFromConfig(readStackConfig(configFile)), POLICY_RULES), null, 2)}\n`;
}

function main(): number {
  const { values } = parseArgs({
    options: { stack: { type: "string" }, "config-file": { type: "string" }, out: { type: "string" } },
    strict: true,
  });
  if (!values.stack && !values["config-file"]) {
    console.error("usage: npx tsx policy/stack-config.ts --stack <name> [--config-file <path>] [--out <file>]");
    return 2;
  }
  const file = values["config-file"] ?? path.join(__dirname, "..", "stacks", `Pulumi.${values.stack}.yaml`);
  const json = policyConfigForStackFile(file);
  if (values.out) fs.writeFileSync(values.out, json);
  else process.stdout.write(json);
  return 0;
}

if (require.main === module) {
  try {
    process.exit(main());
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
