import { COST_SERIES as S } from "./names";
import { sumOfHoursExpr } from "./rules";

/**
 * The monthly chargeback report: what each key cost per model, the idle capacity of each model, the unallocated
 * GPU nodes and the fixed part, in USD, from the hourly sums the cost recording rules keep (rules.ts). Querying
 * (fetchCostMonth) is apart from rendering (renderMarkdown, renderCsv) so both are tested on their own.
 */
export interface KeyLine {
  readonly key: string;
  readonly model: string;
  readonly usd: number;
  readonly work: number;
}
export interface ModelLine {
  readonly model: string;
  readonly usd: number;
  readonly idle: number;
  /** Work unit of the model's key lines (retrieval_stack:model_info). */
  readonly unit: string;
}
export interface CostMonth {
  readonly month: string;
  readonly stack: string;
  readonly prometheus: string;
  /** The window: [from, until) in UTC; until < end of month for the month in progress. */
  readonly from: Date;
  readonly until: Date;
  readonly complete: boolean;
  readonly keys: readonly KeyLine[];
  readonly models: readonly ModelLine[];
  readonly unallocated: readonly { nodeGroup: string; usd: number }[];
  readonly fixed: readonly { component: string; usd: number }[];
  readonly budgets: Readonly<Record<string, number>>;
}

type Sample = { metric: Record<string, string>; value: [number, string] };

export class PrometheusError extends Error {
  override readonly name = "PrometheusError";
}

async function instantQuery(base: string, query: string, time: Date): Promise<Sample[]> {
  const url = `${base}/api/v1/query?query=${encodeURIComponent(query)}&time=${time.getTime() / 1000}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new PrometheusError(`cannot reach Prometheus at ${base}: ${(e as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as
    { status?: string; error?: string; data?: { resultType?: string; result?: Sample[] } } | undefined;
  if (!res.ok || body?.status !== "success")
    throw new PrometheusError(`Prometheus at ${base} answered ${res.status}: ${body?.error ?? "not a query result"}`);
  return body.data?.result ?? [];
}

const HOUR_MS = 3_600_000;

/**
 * Queries one month: each hourly series summed over the month's hours, evaluated at the first instant of the
 * next month (or, for the month in progress, at the last full hour before `now`).
 */
export async function fetchCostMonth(o: {
  prometheus: string;
  stack: string;
  month: string;
  monthStart: Date;
  monthEnd: Date;
  budgets: Readonly<Record<string, number>>;
  now?: Date;
}): Promise<CostMonth> {
  const now = o.now ?? new Date();
  const complete = now.getTime() >= o.monthEnd.getTime();
  const until = complete ? o.monthEnd : new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  const seconds = Math.round((until.getTime() - o.monthStart.getTime()) / 1000);
  const base = {
    month: o.month,
    stack: o.stack,
    prometheus: o.prometheus,
    from: o.monthStart,
    until,
    complete,
    budgets: o.budgets,
  };
  if (seconds < 3600) return { ...base, keys: [], models: [], unallocated: [], fixed: [] };
  const q = (series: string, by: string) => instantQuery(o.prometheus, sumOfHoursExpr(series, seconds, by), until);
  const [cost, work, models, idle, unallocated, fixed, info] = await Promise.all([
    q(S.keyCostHourly, "key, model"),
    q(S.keyWorkHourly, "key, model"),
    q(S.modelCostHourly, "model"),
    q(S.idleCostHourly, "model"),
    q(S.unallocatedHourly, "node_group"),
    q(S.fixedCostHourly, "component"),
    instantQuery(o.prometheus, `max by (model, work) (last_over_time(${S.modelInfo}[${seconds}s]))`, until),
  ]);
  const v = (s: Sample) => Number(s.value[1]);
  const workOf = new Map(work.map((s) => [`${s.metric.key}\u0000${s.metric.model}`, v(s)]));
  const idleOf = new Map(idle.map((s) => [s.metric.model ?? "", v(s)]));
  const unitOf = new Map(info.map((s) => [s.metric.model ?? "", s.metric.work ?? "work units"]));
  const byName =
    <T>(f: (x: T) => string) =>
    (a: T, b: T) =>
      f(a).localeCompare(f(b));
  return {
    ...base,
    keys: cost
      .map((s) => ({
        key: s.metric.key ?? "",
        model: s.metric.model ?? "",
        usd: v(s),
        work: workOf.get(`${s.metric.key}\u0000${s.metric.model}`) ?? 0,
      }))
      .sort((a, b) => a.key.localeCompare(b.key) || a.model.localeCompare(b.model)),
    models: models
      .map((s) => {
        const model = s.metric.model ?? "";
        return { model, usd: v(s), idle: idleOf.get(model) ?? 0, unit: unitOf.get(model) ?? "work units" };
      })
      .sort(byName((m) => m.model)),
    unallocated: unallocated
      .map((s) => ({ nodeGroup: s.metric.node_group ?? "", usd: v(s) }))
      .sort(byName((x) => x.nodeGroup)),
    fixed: fixed.map((s) => ({ component: s.metric.component ?? "", usd: v(s) })).sort(byName((x) => x.component)),
  };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
export const dollars = (x: number) =>
  `$${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const amount = (x: number) =>
  x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0);

export interface Totals {
  readonly keys: number;
  readonly idle: number;
  readonly unallocated: number;
  readonly fixed: number;
  readonly total: number;
}

export function totalsOf(r: CostMonth): Totals {
  const keys = sum(r.keys.map((k) => k.usd));
  const idle = sum(r.models.map((m) => m.idle));
  const unallocated = sum(r.unallocated.map((u) => u.usd));
  const fixed = sum(r.fixed.map((f) => f.usd));
  return { keys, idle, unallocated, fixed, total: keys + idle + unallocated + fixed };
}

/** Models whose keys + idle differ from the model's cost by more than a cent (should never happen). */
export function unbalancedModels(r: CostMonth): string[] {
  return r.models
    .filter((m) => Math.abs(sum(r.keys.filter((k) => k.model === m.model).map((k) => k.usd)) + m.idle - m.usd) > 0.01)
    .map((m) => m.model);
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

export function renderMarkdown(r: CostMonth): string {
  const t = totalsOf(r);
  const [y, m] = r.month.split("-");
  const hours = Math.round((r.until.getTime() - r.from.getTime()) / HOUR_MS);
  const unit = new Map(r.models.map((x) => [x.model, x.unit]));
  const keys = [...new Set([...r.keys.map((k) => k.key), ...Object.keys(r.budgets)])].sort();
  const lines = [
    `# GPU cost by key: ${r.stack}, ${MONTHS[Number(m) - 1]} ${y} (UTC)`,
    "",
    `${r.complete ? "The whole month" : `Month to date, until ${r.until.toISOString()}`}: ${hours} hours, from ${r.prometheus}. ` +
      "Each model's GPU cost is split over the keys by their share of its work; capacity nobody used is idle; GPU nodes " +
      "no model requested and the fixed part (control plane, system nodes) are apart. How it is computed: docs/cost.md.",
    "",
    "## Keys",
    "",
    "| key | USD | budget | of budget | per model |",
    "| --- | ---: | ---: | ---: | --- |",
    ...keys.map((key) => {
      const lines = r.keys.filter((k) => k.key === key);
      const usd = sum(lines.map((k) => k.usd));
      const budget = r.budgets[key];
      const perModel = lines
        .map((k) => `${k.model} ${dollars(k.usd)} (${amount(k.work)} ${unit.get(k.model) ?? "work units"})`)
        .join(", ");
      return `| ${key} | ${dollars(usd)} | ${budget === undefined ? "–" : dollars(budget)} | ${budget === undefined ? "–" : `${Math.round((usd / budget) * 100)} %`} | ${perModel || "–"} |`;
    }),
    "",
    "## Models",
    "",
    "| model | cost | used by keys | idle | idle share |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...r.models.map(
      (x) =>
        `| ${x.model} | ${dollars(x.usd)} | ${dollars(x.usd - x.idle)} | ${dollars(x.idle)} | ${x.usd > 0 ? `${Math.round((x.idle / x.usd) * 100)} %` : "–"} |`,
    ),
    "",
    "## Not attributed to a key",
    "",
    "| what | USD |",
    "| --- | ---: |",
    `| idle capacity (all models) | ${dollars(t.idle)} |`,
    ...r.unallocated.map((u) => `| unallocated GPU nodes: ${u.nodeGroup} | ${dollars(u.usd)} |`),
    ...r.fixed.map((f) => `| fixed: ${f.component} | ${dollars(f.usd)} |`),
    "",
    `**Total ${dollars(t.total)}** = keys ${dollars(t.keys)} + idle ${dollars(t.idle)} + unallocated GPU nodes ${dollars(t.unallocated)} + fixed ${dollars(t.fixed)}.`,
  ];
  const bad = unbalancedModels(r);
  if (bad.length)
    lines.push(
      "",
      `> Warning: keys + idle differ from the model's cost by more than a cent for ${bad.join(", ")} (gaps in the recorded series?).`,
    );
  return `${lines.join("\n")}\n`;
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** One line per key and model, per model's idle capacity, per node group's unallocated nodes, per fixed item. */
export function renderCsv(r: CostMonth): string {
  const unit = new Map(r.models.map((x) => [x.model, x.unit]));
  const rows: string[][] = [
    ["month", "category", "name", "model", "work_unit", "work", "usd"],
    ...r.keys.map((k) => [
      r.month,
      "key",
      k.key,
      k.model,
      unit.get(k.model) ?? "",
      String(Math.round(k.work)),
      k.usd.toFixed(6),
    ]),
    ...r.models.map((m) => [r.month, "idle", "", m.model, "", "", m.idle.toFixed(6)]),
    ...r.unallocated.map((u) => [r.month, "unallocated", u.nodeGroup, "", "", "", u.usd.toFixed(6)]),
    ...r.fixed.map((f) => [r.month, "fixed", f.component, "", "", "", f.usd.toFixed(6)]),
  ];
  return `${rows.map((row) => row.map(csvField).join(",")).join("\n")}\n`;
}
