import { z } from "zod";
import { DnsLabel } from "./common";
import { fixMessage } from "./errors";

/**
 * What GPU time costs each team (docs/cost.md): monthly budgets per key, the spot price of spot node groups, and
 * per model the throughput one replica sustains (to tell used capacity from idle and to price a million tokens).
 * Pure schema; the cross-field rules (budget keys exist, models exist) are in components/validation/rules/cost.ts.
 */

/** USD amounts: positive, with a ceiling that catches a typo (1e12) before it becomes a silent never-firing alert. */
const Usd = (what: string) =>
  z
    .number()
    .positive({ message: fixMessage(`is not a positive ${what} in USD`, "write e.g. 500") })
    .max(10_000_000, {
      message: fixMessage(`is above 10,000,000 USD, which this project takes for a typo`, "check the amount"),
    });

export const ModelCostSchema = z.strictObject({
  workPerSecondPerReplica: z.number().positive().max(1e9).optional().meta({
    description:
      "Work one replica sustains per second at full load, in the model's work unit (input tokens; documents for rerank or inputs for embeddings when its engine reports no tokens), e.g. measured with a load test. Without it, a model is 'used' whenever any key sent work in the last 5 minutes, and plan.md cannot price a million tokens.",
  }),
  targetUtilisation: z.number().gt(0).max(1).default(0.6).meta({
    description: "The share of that throughput you plan to run at: plan.md prices a million tokens at it.",
  }),
});
export type ModelCostConfig = z.infer<typeof ModelCostSchema>;

export const CostSchema = z.strictObject({
  enabled: z.boolean().default(true).meta({
    description:
      "Record GPU cost per model and key in Prometheus (recording rules, the 'Usage and cost by key' dashboard, budget alerts); needs observability.enabled.",
  }),
  budgets: z.record(DnsLabel, Usd("monthly budget")).default({}).meta({
    description:
      "Monthly budget in USD per key name (gateway.keys, or the JWT identity): alerts at 80 % and 100 % of the month-to-date GPU cost attributed to the key.",
  }),
  refuseOverBudget: z.boolean().default(false).meta({
    description:
      "Opt-in: the gateway answers 429 to a key whose month-to-date cost has reached its budget (docs/cost.md).",
  }),
  spotUsdPerHour: z.record(z.string().min(1), Usd("hourly spot price")).default({}).meta({
    description:
      'Spot price per EC2 instance type, USD/hour, for node groups with capacityType SPOT (spot prices move; take them from your bill or the EC2 spot price history). A spot type not listed is costed at its on-demand price, an upper bound. E.g. { "g6.xlarge": 0.39 }.',
  }),
  models: z.record(DnsLabel, ModelCostSchema).default({}).meta({
    description: "Per model name: the throughput of one replica and the utilisation you plan for.",
  }),
});
export type CostConfig = z.infer<typeof CostSchema>;
