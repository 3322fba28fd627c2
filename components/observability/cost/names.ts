/**
 * The series the cost recording rules write (rules.ts), which the dashboard, the report CLI and the gateway's
 * budget check read. One place, so a renamed series fails the type-check instead of showing "no data".
 */
export const COST_SERIES = {
  /** {node_group, instance_type}: USD per node-hour, from the stack's price table (constant). */
  nodePrice: "retrieval_stack:node_price_usd_per_hour",
  /** {model, task, work}: 1 per model of the stack (constant); `work` names the model's work unit. */
  modelInfo: "retrieval_stack:model_info",
  /** {model}: work per second one replica sustains (constant; only models with cost.models.<m>.workPerSecondPerReplica). */
  modelCapacity: "retrieval_stack:model_capacity_work_per_second_per_replica",
  /** {node, node_group, instance_type}: what each running node costs per hour. */
  nodeCost: "retrieval_stack:node_cost_usd_per_hour",
  /** {node_group}: all nodes of a group (GPU groups and `system`). */
  nodeGroupCost: "retrieval_stack:node_group_cost_usd_per_hour",
  /** {namespace, pod, node, model}: a running model pod's share of its node's GPUs (requests / allocatable). */
  podGpuShare: "retrieval_stack:pod_gpu_share",
  /** {model, node_group}: the model's pods' share of their nodes x the nodes' price. */
  modelNodeGroupCost: "retrieval_stack:model_node_group_cost_usd_per_hour",
  /** {model}: the model's cost (0 while scaled to zero). */
  modelCost: "retrieval_stack:model_cost_usd_per_hour",
  /** {node_group}: GPU node cost no model pod requested (empty GPUs, nodes kept by minSize). */
  unallocated: "retrieval_stack:node_group_unallocated_usd_per_hour",
  /** {component}: the fixed part (control plane, system nodes: gateway, observability, controllers). */
  fixedCost: "retrieval_stack:fixed_cost_usd_per_hour",
  /** {key, model}: work per second per key (input tokens, or documents / inputs), over the last 5 minutes. */
  keyWork: "retrieval_stack:key_work:rate5m",
  /** {model}: all keys' work per second. */
  modelWork: "retrieval_stack:model_work:rate5m",
  /** {model}: the used share of the model's capacity, 0-1 (see docs/cost.md). */
  modelUtilisation: "retrieval_stack:model_utilisation",
  /** {key, model}: the key's share of the model's cost. */
  keyCost: "retrieval_stack:key_cost_usd_per_hour",
  /** {model}: the model's cost that no key used. */
  idleCost: "retrieval_stack:model_idle_usd_per_hour",
  /** {model}: USD per million work units at the current utilisation (absent while no work). */
  usdPerMillionWork: "retrieval_stack:model_usd_per_million_work",
  /** Month of the evaluation time, 1-12, recorded at every evaluation (also the clock the hourly sums count). */
  month: "retrieval_stack:month",
  /** {key, model}: USD attributed to the key in the hour before the sample (the per-minute rate, summed). */
  keyCostHourly: "retrieval_stack:key_cost_usd:1h",
  /** {key, model}: work units in the hour before the sample. */
  keyWorkHourly: "retrieval_stack:key_work:1h",
  /** {model}: USD of the model in the hour before the sample. */
  modelCostHourly: "retrieval_stack:model_cost_usd:1h",
  /** {model}: USD of idle capacity in the hour before the sample. */
  idleCostHourly: "retrieval_stack:model_idle_usd:1h",
  /** {node_group}: USD of unallocated GPU nodes in the hour before the sample. */
  unallocatedHourly: "retrieval_stack:node_group_unallocated_usd:1h",
  /** {component}: USD of the fixed part in the hour before the sample. */
  fixedCostHourly: "retrieval_stack:fixed_cost_usd:1h",
  /** {key}: the key's monthly budget (constant, cost.budgets). */
  keyBudget: "retrieval_stack:key_budget_usd",
  /** {key}: GPU cost attributed to the key since the first of this month (UTC). */
  keySpendMonthToDate: "retrieval_stack:key_spend_usd:month_to_date",
  /** {key}: month-to-date spend / budget. */
  keyBudgetUsed: "retrieval_stack:key_budget_used:ratio",
} as const;

/**
 * The cost rules run every minute; an hourly sum is the mean of the hour's per-minute rates (a missing sample
 * counts as 0), i.e. dollars in that hour. Longer windows add up hourly sums sampled on the hour, so that the
 * hours of a month tile it exactly (a subquery [Nd-1s:1h] ending on the first of the next month).
 */
export const COST_RULE_INTERVAL = "1m";
/** The budget group sums a 31-day subquery of hourly sums; every 5 minutes is often enough for a monthly budget. */
export const BUDGET_RULE_INTERVAL = "5m";

/** The names of the budget alerts (docs/runbooks.md has a section for each). */
export const BUDGET_ALERTS = {
  warning: "KeyBudgetWarning",
  exhausted: "KeyBudgetExhausted",
} as const;
export const BUDGET_WARNING_RATIO = 0.8;
