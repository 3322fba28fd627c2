// The command line of `npm run report`. Only node: modules, so that a mistake is answered at once (usage, exit 2).
import { parseArgs } from "node:util";

interface ReportArgs {
  readonly stack?: string;
  readonly configFile?: string;
  /** First instant of the month, UTC. */
  readonly monthStart: Date;
  /** First instant of the next month, UTC. */
  readonly monthEnd: Date;
  readonly month: string;
  readonly prometheus: string;
  readonly outDir?: string;
}

type ParsedReportArgs = { kind: "help" } | { kind: "report"; args: ReportArgs } | { kind: "error"; message: string };

/** Prometheus as `kubectl -n monitoring port-forward svc/kps-prometheus 9090` exposes it. */
const DEFAULT_PROMETHEUS = "http://127.0.0.1:9090";

const OPTIONS = {
  stack: { type: "string" },
  "config-file": { type: "string" },
  month: { type: "string" },
  prometheus: { type: "string" },
  out: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export function reportUsage(): string {
  return `usage: npm run report -- --stack <name> --month <YYYY-MM> [--prometheus <URL>] [--out <dir>]
       npm run report -- --config-file <path/to/Pulumi.<name>.yaml> --month <YYYY-MM> [...]

  --stack NAME        the stack whose keys and budgets the report lists (stacks/Pulumi.<NAME>.yaml)
  --config-file PATH  a stack file anywhere
  --month YYYY-MM     the month (UTC) to charge back, e.g. 2026-11; the current month gives month to date
  --prometheus URL    the stack's Prometheus (default ${DEFAULT_PROMETHEUS}:
                      kubectl -n monitoring port-forward svc/kps-prometheus 9090)
  --out DIR           where to write cost-<month>.md and cost-<month>.csv (default out/<name>)
  --help              this text

GPU cost per key and model in USD from the cost recording rules (docs/cost.md), with idle capacity, unallocated
GPU nodes and the fixed part apart. Exit status: 0 written, 1 Prometheus could not answer, 2 usage error.`;
}

export function parseReportArgs(argv: readonly string[], now: Date = new Date()): ParsedReportArgs {
  const error = (message: string): ParsedReportArgs => ({ kind: "error", message });
  let values: { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true }));
  } catch (e) {
    return error((e as Error).message.split("\n")[0]!);
  }
  if (values.help) return { kind: "help" };
  if (positionals.length) return error(`unexpected argument "${positionals[0]}"`);
  for (const o of ["stack", "config-file", "month", "prometheus", "out"] as const) {
    const v = values[o];
    if (typeof v === "string" && (v === "" || v.startsWith("--"))) return error(`--${o} needs a value`);
  }
  const { stack, "config-file": configFile, month, prometheus = DEFAULT_PROMETHEUS, out } = values;
  if (!stack && !configFile) return error("missing --stack <name> (or --config-file <path>)");
  if (stack && /[/\\]|\.ya?ml$/.test(stack))
    return error(`--stack takes a stack name, not a file; use --config-file ${stack}`);
  if (!month) return error("missing --month <YYYY-MM>, e.g. --month 2026-11");
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const monthIndex = m ? Number(m[2]) - 1 : -1;
  if (!m || monthIndex < 0 || monthIndex > 11)
    return error(`--month "${month}" is not a month; write YYYY-MM, e.g. 2026-11`);
  const monthStart = new Date(Date.UTC(Number(m[1]), monthIndex, 1));
  const monthEnd = new Date(Date.UTC(Number(m[1]), monthIndex + 1, 1));
  if (monthStart.getTime() > now.getTime()) return error(`--month ${month} has not started yet (UTC)`);
  let url: URL;
  try {
    url = new URL(prometheus);
  } catch {
    return error(`--prometheus "${prometheus}" is not a URL; write e.g. ${DEFAULT_PROMETHEUS}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return error(`--prometheus "${prometheus}" is not an http(s) URL; write e.g. ${DEFAULT_PROMETHEUS}`);
  return {
    kind: "report",
    args: {
      stack,
      configFile,
      month,
      monthStart,
      monthEnd,
      prometheus: prometheus.replace(/\/+$/, ""),
      outDir: out,
    },
  };
}
