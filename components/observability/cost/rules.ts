import type { ClusterConfig, CostConfig, GatewayConfig, GpuNodeGroupConfig, ModelConfig } from "../../config";
import { NODE_GROUP_LABEL } from "../../k8s/meta";
import { MODELS_NAMESPACE } from "../../k8s/namespaces";
import { escapeRegex, ksmLabel, KSM_MODEL_LABEL } from "../alert-rules";
import {
  BUDGET_ALERTS,
  BUDGET_RULE_INTERVAL,
  BUDGET_WARNING_RATIO,
  COST_RULE_INTERVAL,
  COST_SERIES as S,
} from "./names";
import { fixedPrices, nodePrices } from "./prices";
import { WORK_COUNTER, workUnitOf, type WorkUnit } from "./work";

/** A recording rule as in a Prometheus rule file and a PrometheusRule's spec.groups[].rules[]. */
interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
}

interface BudgetAlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: { summary: string; description: string; runbook_url?: string };
}

interface CostRuleGroup {
  readonly name: string;
  readonly interval: string;
  readonly rules: (RecordingRule | BudgetAlertRule)[];
}

export interface CostRulesInput {
  readonly models: readonly ModelConfig[];
  readonly cluster: ClusterConfig;
  readonly gpuNodeGroups: Readonly<Record<string, GpuNodeGroupConfig>>;
  readonly cost: CostConfig;
  /** The gateway's per-model dialect overrides decide which models report tokens. */
  readonly gateway?: Pick<GatewayConfig, "dialects">;
  readonly modelsNamespace?: string;
  readonly runbookBaseUrl?: string;
}

/**
 * The well-known node label with the instance type, set by the kubelet when the cloud provider knows it
 * (Kubernetes docs "Node Labels Populated By The Kubelet", reference/node/node-labels, read 2026-12-07).
 */
export const INSTANCE_TYPE_NODE_LABEL = "node.kubernetes.io/instance-type";
/**
 * kube-state-metrics' `resource` label of nvidia.com/gpu: the name sanitised (invalid characters to "_"), unit
 * "integer" for extended resources, on kube_pod_container_resource_requests{namespace,pod,container,node,resource,
 * unit} and kube_node_status_allocatable{node,resource,unit} (kubernetes/kube-state-metrics internal/store/pod.go
 * at 02efa65, docs/metrics/workload/pod-metrics.md and docs/metrics/cluster/node-metrics.md, read 2026-12-07:
 * both STABLE there; the kube-state-metrics version inside kube-prometheus-stack 88.5.3 was not checked itself).
 */
const KSM_GPU_RESOURCE = "nvidia_com_gpu";
const KSM_NODE_GROUP = ksmLabel(NODE_GROUP_LABEL);
const KSM_INSTANCE_TYPE = ksmLabel(INSTANCE_TYPE_NODE_LABEL);
const RATE = "5m";

const regexOf = (names: readonly string[]) => names.map(escapeRegex).join("|");
const num = (x: number) => String(Number(x.toPrecision(12)));

/**
 * The recording rules that turn node prices, GPU requests and the gateway's per-key usage into dollars, and the
 * budget alerts (docs/cost.md explains each step). Pure: everything comes from the stack config.
 *
 *   model cost  = sum over its running pods of (nvidia.com/gpu requested / allocatable on the node) x node price
 *   utilisation = work / (running replicas x workPerSecondPerReplica), at most 1; without a throughput figure,
 *                 1 while any key sent work in the last 5 minutes, else 0
 *   key cost    = model cost x utilisation x key's work / all keys' work
 *   idle        = model cost x (1 - utilisation)            so that  sum(key cost) + idle = model cost
 *   unallocated = GPU node group cost - sum(model cost on it); fixed = control plane + system nodes (apart)
 */
export function buildCostRuleGroups(i: CostRulesInput): CostRuleGroup[] {
  const ns = i.modelsNamespace ?? MODELS_NAMESPACE;
  const prices = nodePrices(i);
  const constants: RecordingRule[] = [
    ...prices.map((p) => ({
      record: S.nodePrice,
      expr: `vector(${num(p.usdPerHour)})`,
      labels: { node_group: p.nodeGroup, instance_type: p.instanceType, basis: p.basis },
    })),
    ...i.models.map((m) => ({
      record: S.modelInfo,
      expr: "vector(1)",
      labels: { model: m.name, task: m.task, work: workUnitOf(m, i.gateway) },
    })),
    ...i.models.flatMap((m) => {
      const c = i.cost.models[m.name]?.workPerSecondPerReplica;
      return c === undefined ? [] : [{ record: S.modelCapacity, expr: `vector(${num(c)})`, labels: { model: m.name } }];
    }),
    ...fixedPrices(i.cluster).map((f) => ({
      record: S.fixedCost,
      expr: `vector(${num(f.usdPerHour)})`,
      labels: { component: f.component },
    })),
  ];

  const nodes: RecordingRule[] = [
    {
      record: S.nodeCost,
      expr: `max by (node, node_group, instance_type) (label_replace(label_replace(kube_node_labels{${KSM_NODE_GROUP}!=""}, "node_group", "$1", "${KSM_NODE_GROUP}", "(.+)"), "instance_type", "$1", "${KSM_INSTANCE_TYPE}", "(.+)")) * on(node_group, instance_type) group_left() max by (node_group, instance_type) (${S.nodePrice})`,
    },
    { record: S.nodeGroupCost, expr: `sum by (node_group) (${S.nodeCost})` },
    ...(prices.some((p) => p.nodeGroup === "system")
      ? [
          {
            record: S.fixedCost,
            expr: `sum(${S.nodeCost}{node_group="system"})`,
            labels: { component: "system-nodes" },
          },
        ]
      : []),
  ];

  const gpuShare = `(sum by (namespace, pod, node) (kube_pod_container_resource_requests{namespace="${ns}",resource="${KSM_GPU_RESOURCE}"}) * on(namespace, pod) group_left() max by (namespace, pod) (kube_pod_status_phase{namespace="${ns}",phase="Running"} == 1)) / on(node) group_left() max by (node) (kube_node_status_allocatable{resource="${KSM_GPU_RESOURCE}"} > 0) * on(namespace, pod) group_left(model) max by (namespace, pod, model) (label_replace(kube_pod_labels{namespace="${ns}",${KSM_MODEL_LABEL}!=""}, "model", "$1", "${KSM_MODEL_LABEL}", "(.+)"))`;
  const zeroPerModel = `sum by (model) (${S.modelInfo}) * 0`;
  const models: RecordingRule[] = [
    { record: S.podGpuShare, expr: gpuShare },
    {
      record: S.modelNodeGroupCost,
      expr: `sum by (model, node_group) (${S.podGpuShare} * on(node) group_left(node_group) ${S.nodeCost})`,
    },
    { record: S.modelCost, expr: `sum by (model) (${S.modelNodeGroupCost}) or ${zeroPerModel}` },
    {
      record: S.unallocated,
      expr: `${S.nodeGroupCost}{node_group!="system"} - on(node_group) (sum by (node_group) (${S.modelNodeGroupCost}) or ${S.nodeGroupCost}{node_group!="system"} * 0)`,
    },
  ];

  const byUnit = new Map<WorkUnit, string[]>();
  for (const m of i.models) {
    const u = workUnitOf(m, i.gateway);
    byUnit.set(u, [...(byUnit.get(u) ?? []), m.name]);
  }
  const workParts = [...byUnit].map(
    ([u, names]) => `sum by (key, model) (rate(${WORK_COUNTER[u]}{model=~"${regexOf(names)}"}[${RATE}]))`,
  );
  const capped = i.models
    .filter((m) => i.cost.models[m.name]?.workPerSecondPerReplica !== undefined)
    .map((m) => m.name);
  const uncapped = i.models.filter((m) => !capped.includes(m.name)).map((m) => m.name);
  const utilisationParts = [
    ...(capped.length
      ? [
          `clamp_max(${S.modelWork}{model=~"${regexOf(capped)}"} / on(model) (count by (model) (${S.podGpuShare}) * on(model) ${S.modelCapacity}), 1)`,
        ]
      : []),
    ...(uncapped.length ? [`(${S.modelWork}{model=~"${regexOf(uncapped)}"} > bool 0)`] : []),
    zeroPerModel,
  ];
  const keys: RecordingRule[] = [
    { record: S.keyWork, expr: workParts.join(" or ") },
    { record: S.modelWork, expr: `sum by (model) (${S.keyWork})` },
    { record: S.modelUtilisation, expr: utilisationParts.join(" or ") },
    {
      record: S.keyCost,
      expr: `(${S.keyWork} / on(model) group_left() (${S.modelWork} > 0) or ${S.keyWork} * 0) * on(model) group_left() (${S.modelCost} * on(model) ${S.modelUtilisation})`,
    },
    { record: S.idleCost, expr: `${S.modelCost} * on(model) (1 - ${S.modelUtilisation})` },
    {
      record: S.usdPerMillionWork,
      expr: `${S.modelCost} / on(model) (${S.modelWork} > 0) * ${num(1e6 / 3600)}`,
    },
  ];

  const hourly: RecordingRule[] = [
    { record: S.month, expr: "month()" },
    ...(
      [
        [S.keyCostHourly, S.keyCost, 1],
        [S.keyWorkHourly, S.keyWork, 3600],
        [S.modelCostHourly, S.modelCost, 1],
        [S.idleCostHourly, S.idleCost, 1],
        [S.unallocatedHourly, S.unallocated, 1],
        [S.fixedCostHourly, S.fixedCost, 1],
      ] as const
    ).map(([record, rate, hourIn]) => ({ record, expr: hourlySumExpr(rate, hourIn) })),
  ];

  return [
    {
      name: "retrieval-stack-cost",
      interval: COST_RULE_INTERVAL,
      rules: [...constants, ...nodes, ...models, ...keys, ...hourly],
    },
    { name: "retrieval-stack-budgets", interval: BUDGET_RULE_INTERVAL, rules: budgetRules(i) },
  ];
}

/**
 * The amount over the last hour of a per-hour rate (or, with unitsPerHour 3600, of a per-second rate): the sum of
 * the hour's samples over the number of evaluations in it (the clock series `month`, recorded at each one), so an
 * absent sample counts as 0 and a series born mid-hour is not overstated.
 */
function hourlySumExpr(rate: string, unitsPerHour = 1): string {
  const scale = unitsPerHour === 1 ? "" : ` * ${unitsPerHour}`;
  return `sum_over_time(${rate}[1h]) / scalar(count_over_time(${S.month}[1h]))${scale}`;
}

/**
 * Sum of an hourly series over the hours of a window ending at the evaluation time: the subquery samples it on
 * each hour boundary; `[<seconds - 1>s:1h]` keeps the hour that starts the window out (it belongs to the window
 * before). The report evaluates it at the first instant of the next month.
 */
export function sumOfHoursExpr(hourlySeries: string, seconds: number, by: string): string {
  return `sum by (${by}) (sum_over_time(${hourlySeries}[${seconds - 1}s:1h]))`;
}

/**
 * Month-to-date USD per key: the key's hourly sums on each hour boundary of the last 31 days, keeping the hours
 * that belong to the evaluation's month (UTC): a sample at hh:00 covers the hour before, so its month is that of
 * one minute earlier. `@ end()` pins the month to compare with to the evaluation time inside the subquery.
 * Completed hours only: the figure lags by up to an hour.
 */
function monthToDateExpr(): string {
  return `sum by (key) (sum_over_time((${S.keyCostHourly} and on() (month(vector(time() - 60)) == on() ${S.month} @ end()))[31d:1h]))`;
}

function budgetRules(i: CostRulesInput): (RecordingRule | BudgetAlertRule)[] {
  const budgets = Object.entries(i.cost.budgets);
  const anchor = (name: string) =>
    i.runbookBaseUrl ? { runbook_url: `${i.runbookBaseUrl.replace(/#.*$/, "")}#${name.toLowerCase()}` } : {};
  const recorded: RecordingRule[] = [{ record: S.keySpendMonthToDate, expr: monthToDateExpr() }];
  if (budgets.length === 0) return recorded;
  return [
    ...recorded,
    ...budgets.map(([key, usd]) => ({ record: S.keyBudget, expr: `vector(${num(usd)})`, labels: { key } })),
    { record: S.keyBudgetUsed, expr: `${S.keySpendMonthToDate} / on(key) ${S.keyBudget}` },
    {
      alert: BUDGET_ALERTS.warning,
      expr: `${S.keyBudgetUsed} >= ${BUDGET_WARNING_RATIO} < 1`,
      for: "0m",
      labels: { severity: "info", scope: "key" },
      annotations: {
        summary: "Key {{ $labels.key }} has spent {{ $value | humanizePercentage }} of its monthly GPU budget",
        description: `The GPU cost attributed to key {{ $labels.key }} since the first of the month (UTC) is at least ${BUDGET_WARNING_RATIO * 100} % of its cost.budgets entry.`,
        ...anchor(BUDGET_ALERTS.warning),
      },
    },
    {
      alert: BUDGET_ALERTS.exhausted,
      expr: `${S.keyBudgetUsed} >= 1`,
      for: "0m",
      labels: { severity: "warning", scope: "key" },
      annotations: {
        summary: "Key {{ $labels.key }} has spent its monthly GPU budget ({{ $value | humanizePercentage }})",
        description: i.cost.refuseOverBudget
          ? "The gateway now refuses this key with 429 until the next month or a larger cost.budgets entry."
          : "Nothing is refused (cost.refuseOverBudget is off): raise the budget or talk to the team.",
        ...anchor(BUDGET_ALERTS.exhausted),
      },
    },
  ];
}
