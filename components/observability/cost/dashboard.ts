import type { Dashboard } from "@grafana/schema";
import { dashboard, queryVariable, row, stat, timeseries, type PanelSpec } from "../dashboards/panels";
import { COST_SERIES as S } from "./names";
import { sumOfHoursExpr } from "./rules";

const COST_DASHBOARD_UID = "rs-cost";

const KEY = `key=~"$key"`;

/**
 * "Usage and cost by key" (docs/cost.md): dollars per key per day and month to date, budgets, the top keys, and
 * per model its cost, idle cost, utilisation and price per million work units; the unallocated GPU nodes and the
 * fixed part apart. Reads only the series of the cost recording rules (names.ts).
 */
export function costDashboard(): Dashboard {
  // Dollars over a window: the hourly sums on the window's hour boundaries (as the report adds them up).
  const DAY = 86_400;
  const panels: PanelSpec[] = [
    row("Keys"),
    {
      ...timeseries(
        "Dollars per key per day",
        [{ expr: sumOfHoursExpr(`${S.keyCostHourly}{${KEY}}`, DAY, "key"), legend: "{{key}}" }],
        {
          unit: "currencyUSD",
          min: 0,
          description:
            "Each point: the GPU cost attributed to the key over the 24 hours before it (UTC days at the 1d step).",
        },
      ),
      interval: "1d",
    },
    timeseries("Month to date per key", [{ expr: `${S.keySpendMonthToDate}{${KEY}}`, legend: "{{key}}" }], {
      unit: "currencyUSD",
      min: 0,
      description: "Since the first of the month, 00:00 UTC (what the budget alerts compare).",
    }),
    timeseries("Budget used", [{ expr: `${S.keyBudgetUsed}{${KEY}}`, legend: "{{key}}" }], {
      unit: "percentunit",
      min: 0,
      threshold: 0.8,
      description: "Month-to-date cost / cost.budgets entry; alerts at 80 % and 100 %.",
    }),
    timeseries("Top 10 keys, month to date", [{ expr: `topk(10, ${S.keySpendMonthToDate})`, legend: "{{key}}" }], {
      unit: "currencyUSD",
      min: 0,
    }),
    timeseries(
      "Cost rate per key and model",
      [{ expr: `sum by (key, model) (${S.keyCost}{${KEY}})`, legend: "{{key}} / {{model}}" }],
      { unit: "currencyUSD", min: 0, description: "USD per hour." },
    ),
    timeseries(
      "Work per key and model",
      [
        {
          expr: `${S.keyWork}{${KEY}} * on(model) group_left(work) ${S.modelInfo}`,
          legend: "{{key}} / {{model}} ({{work}})",
        },
      ],
      {
        unit: "short",
        min: 0,
        description: "Per second: input tokens, or documents / inputs for engines that report no tokens.",
      },
    ),
    row("Models"),
    timeseries("Model cost", [{ expr: S.modelCost, legend: "{{model}}" }], {
      unit: "currencyUSD",
      min: 0,
      description: "USD per hour: the model's running pods' share of their GPU nodes x the nodes' price.",
    }),
    timeseries("Idle cost (no key used it)", [{ expr: S.idleCost, legend: "{{model}}" }], {
      unit: "currencyUSD",
      min: 0,
      description: "USD per hour of the model's capacity no key used: what scale-to-zero and packing would save.",
    }),
    timeseries("Utilisation", [{ expr: S.modelUtilisation, legend: "{{model}}" }], {
      unit: "percentunit",
      min: 0,
      max: 1,
    }),
    timeseries(
      "$ per million work units at current utilisation",
      [
        {
          expr: `${S.usdPerMillionWork} * on(model) group_left(work) ${S.modelInfo}`,
          legend: "{{model}} (per M {{work}})",
        },
      ],
      { unit: "currencyUSD", min: 0 },
    ),
    stat(
      "Idle share, last 30 days",
      {
        expr: `sum(${sumOfHoursExpr(S.idleCostHourly, 30 * DAY, "model")}) / sum(${sumOfHoursExpr(S.modelCostHourly, 30 * DAY, "model")})`,
        legend: "idle",
      },
      { unit: "percentunit" },
    ),
    stat(
      "Model cost, month to date",
      {
        expr: `sum(${S.keySpendMonthToDate})`,
        legend: "attributed to keys",
      },
      { unit: "currencyUSD" },
    ),
    row("Not attributed to models"),
    timeseries("Unallocated GPU nodes", [{ expr: S.unallocated, legend: "{{node_group}}" }], {
      unit: "currencyUSD",
      min: 0,
      description: "USD per hour of GPU nodes (or GPU slices) no model pod requested, e.g. nodes kept by minSize.",
    }),
    timeseries("Fixed part", [{ expr: S.fixedCost, legend: "{{component}}" }], {
      unit: "currencyUSD",
      min: 0,
      description:
        "USD per hour: EKS control plane and system nodes (gateway, observability, controllers), never spread over keys.",
    }),
    timeseries("Node groups", [{ expr: S.nodeGroupCost, legend: "{{node_group}}" }], { unit: "currencyUSD", min: 0 }),
  ];
  const keys = queryVariable("key", "Key", `label_values(${S.keyCost}, key)`);
  return {
    ...dashboard(COST_DASHBOARD_UID, "Usage and cost by key", ["cost"], [keys], panels),
    time: { from: "now-30d", to: "now" },
  };
}
