import { modelPrices } from "../components/observability/cost/model-price";
import { BUDGET_WARNING_RATIO } from "../components/observability/cost/names";
import type { SummarySection } from "./summary";

const usd2 = (x: number) => `$${x.toFixed(2)}`;
const usd3 = (x: number) => (x < 0.01 ? `$${x.toPrecision(2)}` : `$${x.toFixed(3)}`);
const per = (x: number) => (x >= 1e6 ? `${x / 1e6} M` : x >= 1e3 ? `${x / 1e3} k` : String(x));

/**
 * plan.md "Cost per model": per model, what a replica and the model cost per hour (its nvidia.com/gpu share of a
 * node of its group at the group's price), and the USD per million work units at its target utilisation; the
 * budgets per key. docs/cost.md explains the attribution and its limits.
 */
export const costSummary: SummarySection = ({ config }) => {
  if (!config.cost.enabled) return undefined;
  const rows = modelPrices(config);
  const lines = [
    "## Cost per model",
    "",
    "| model | GPUs of | share of a node | per replica | per hour at min–max replicas | work unit | throughput / replica | $ per million at target utilisation |",
    "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ...rows.map((r) => {
      const where = r.nodeGroup
        ? `\`${r.nodeGroup}\` ${r.instanceType}${r.basis === "spot" ? " (spot)" : r.basis === "spot-at-on-demand" ? " (spot, at on-demand) *" : ""}`
        : "CPU (in the fixed part)";
      const price =
        r.usdPerMillionAtTarget !== undefined
          ? `${usd3(r.usdPerMillionAtTarget)} per M ${r.work} at ${Math.round(r.targetUtilisation * 100)} %`
          : r.nodeGroup
            ? `– (set cost.models.${r.model}.workPerSecondPerReplica)`
            : "–";
      const hourly = r.nodeGroup
        ? `${usd3(r.usdPerReplicaHour)}/h | ${usd2(r.usdPerReplicaHour * r.replicas.min)}–${usd2(r.usdPerReplicaHour * r.replicas.max)}/h`
        : "– | –";
      return `| ${r.model} | ${where} | ${r.nodeGroup ? `${Math.round(r.nodeShare * 1000) / 10} %` : "–"} | ${hourly} | ${r.work} | ${r.workPerSecondPerReplica === undefined ? "–" : `${per(r.workPerSecondPerReplica)}/s`} | ${price} |`;
    }),
    "",
    'Prices: the table of "GPUs and cost" above (on-demand us-east-1, or `cost.spotUsdPerHour` for spot groups). Live, ' +
      "the recording rules split each model's cost over the keys by their work and show unused capacity as idle " +
      '(dashboard "Usage and cost by key", `npm run report`; docs/cost.md).',
  ];
  if (rows.some((r) => r.basis === "spot-at-on-demand"))
    lines.push(
      "",
      "_* a spot group without `cost.spotUsdPerHour` for its instance type is costed at on-demand, an upper bound._",
    );
  const budgets = Object.entries(config.cost.budgets);
  lines.push(
    "",
    budgets.length
      ? `Monthly budgets: ${budgets.map(([k, v]) => `\`${k}\` ${usd2(v)}`).join(", ")}; alerts at ${BUDGET_WARNING_RATIO * 100} % and 100 %${config.cost.refuseOverBudget ? "; the gateway refuses a key with 429 once its budget is spent" : ""}.`
      : "No monthly budgets (`cost.budgets`).",
  );
  return lines.join("\n");
};
