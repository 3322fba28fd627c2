// `npm run report -- --stack <s> --month YYYY-MM [--prometheus URL] [--out dir]`: the chargeback report per key
// (Markdown and CSV) from the stack's Prometheus (docs/cost.md). Arguments are checked before anything loads.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseReportArgs, reportUsage } from "../components/observability/cost/report-args";

async function main(argv: string[]): Promise<number> {
  const parsed = parseReportArgs(argv);
  if (parsed.kind === "help") {
    console.log(reportUsage());
    return 0;
  }
  if (parsed.kind === "error") {
    console.error(`error: ${parsed.message}\n\n${reportUsage()}`);
    return 2;
  }
  const a = parsed.args;
  const root = path.resolve(__dirname, "..");
  const file = a.configFile ?? path.join(root, "stacks", `Pulumi.${a.stack}.yaml`);
  if (!fs.existsSync(file)) {
    console.error(`error: no stack file ${file}\n\n${reportUsage()}`);
    return 2;
  }
  const name = a.stack ?? /Pulumi\.([^/\\]+)\.ya?ml$/.exec(file)?.[1] ?? path.basename(file);
  const { readStackFile } = await import("../plan/stack-file");
  const { parseStackConfig } = await import("../components/validation/stack-config");
  const { ConfigError } = await import("../components/config");
  const report = await import("../components/observability/cost/report");
  let budgets: Record<string, number>;
  try {
    const s = readStackFile(file);
    budgets = parseStackConfig(
      { config: s.config, secretKeys: s.secretKeys, locate: s.locate, fileProblems: s.problems },
      file,
    ).cost.budgets;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  try {
    const month = await report.fetchCostMonth({ ...a, stack: name, budgets });
    const out = a.outDir ?? path.join(root, "out", name);
    fs.mkdirSync(out, { recursive: true });
    const md = report.renderMarkdown(month);
    fs.writeFileSync(path.join(out, `cost-${a.month}.md`), md);
    fs.writeFileSync(path.join(out, `cost-${a.month}.csv`), report.renderCsv(month));
    console.log(md);
    console.log(`wrote ${path.join(out, `cost-${a.month}.md`)} and cost-${a.month}.csv`);
    return 0;
  } catch (e) {
    if (e instanceof report.PrometheusError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
