import type { Rule, RuleProblem } from "./types";

/**
 * Cost rules: a budget names a key the gateway knows (with JWT any identity may appear, so any name is taken),
 * the gateway refusal needs the gateway and budgets, and per-model throughput names a model of the stack.
 */
export const costRules: Rule = (config) => {
  const out: RuleProblem[] = [];
  const cost = config.cost;
  if (!cost) return out;
  const g = config.gateway;
  const keys = Object.keys(g?.keys ?? {});
  if (g && !g.jwt)
    for (const name of Object.keys(cost.budgets))
      if (!keys.includes(name))
        out.push({
          path: ["cost", "budgets", name],
          value: name,
          message: `is not a key of gateway.keys, so no usage would ever be counted against this budget. Fix: use one of ${keys.length ? keys.join(", ") : "(no keys yet: add the key to gateway.keys first)"}.`,
        });
  if (cost.refuseOverBudget && !(g?.enabled ?? false))
    out.push({
      path: ["cost", "refuseOverBudget"],
      value: true,
      message:
        "needs the gateway (gateway.enabled), which is what refuses a key. Fix: enable the gateway or set it to false.",
    });
  if (cost.refuseOverBudget && (config.observability?.enabled === false || !cost.enabled))
    out.push({
      path: ["cost", "refuseOverBudget"],
      value: true,
      message:
        "needs the cost rules in the stack's Prometheus (observability.enabled and cost.enabled), where the gateway learns which budgets are spent. Fix: enable both, or set it to false.",
    });
  if (cost.refuseOverBudget && Object.keys(cost.budgets).length === 0)
    out.push({
      path: ["cost", "refuseOverBudget"],
      value: true,
      message: "has no budget to enforce. Fix: add cost.budgets.<key>: <USD per month>, or set it to false.",
    });
  const models = new Set((config.models ?? []).filter(Boolean).map((m) => m.name));
  for (const name of Object.keys(cost.models))
    if (!models.has(name))
      out.push({
        path: ["cost", "models", name],
        value: name,
        message: `is not a model of this stack. Fix: use one of ${[...models].join(", ")}.`,
      });
  return out;
};
