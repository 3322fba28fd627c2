// `npx tsx scripts/deploy-runner.ts --stack <name> [--config-file <path>]`
// Prints `runs-on=<JSON>` for the deploy job of one stack (GITHUB_OUTPUT format): the stack's cluster.deployRunner,
// read through the same schema and rules as the program, so a private endpoint with a GitHub-hosted runner fails
// here with the config error instead of timing out in `pulumi up`.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../components/config";
import { deployRunsOn } from "../components/cluster/deploy-runner";
import { readStackConfig } from "../policy/stack-config";

const USAGE = "usage: npx tsx scripts/deploy-runner.ts --stack <name> [--config-file <path>]";

function main(): number {
  let values: { stack?: string; "config-file"?: string };
  try {
    ({ values } = parseArgs({
      options: { stack: { type: "string" }, "config-file": { type: "string" } },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const file = values["config-file"] ?? (values.stack ? path.join("stacks", `Pulumi.${values.stack}.yaml`) : "");
  if (!file) {
    console.error(USAGE);
    return 2;
  }
  try {
    console.log(`runs-on=${JSON.stringify(deployRunsOn(readStackConfig(file).cluster))}`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
}

process.exit(main());
