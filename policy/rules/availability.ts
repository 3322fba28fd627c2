import {
  asArray,
  asObject,
  asString,
  describe,
  get,
  isModelWorkload,
  kindOf,
  nameOf,
  namespaceOf,
  podTemplatesOf,
  stringMap,
  type PodTemplate,
} from "./k8s";
import type { PolicyResource, StackRule, StackViolation } from "./types";

export const ZONE_KEY = "topology.kubernetes.io/zone";

const sameNamespace = (a: PolicyResource, b: PolicyResource) => {
  const na = namespaceOf(a);
  const nb = namespaceOf(b);
  // An unknown namespace (an Output during preview) does not rule a match out.
  return na === undefined || nb === undefined || na === nb;
};

/** Whether a label selector (matchLabels + matchExpressions) selects pods with these labels. An empty selector selects nothing here. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const matchLabels = stringMap(get(selector, "matchLabels"));
  const expressions = asArray(get(selector, "matchExpressions")).map((e) => asObject(e) ?? {});
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return false;
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return expressions.every((e) => {
    const key = asString(e.key) ?? "";
    const values = asArray(e.values).map(String);
    switch (e.operator) {
      case "In":
        return key in labels && values.includes(labels[key]!);
      case "NotIn":
        return !(key in labels) || !values.includes(labels[key]!);
      case "Exists":
        return key in labels;
      case "DoesNotExist":
        return !(key in labels);
      default:
        return false;
    }
  });
}

/**
 * The fewest replicas a model workload can run with: an autoscaler's minimum when one targets it (KEDA's
 * minReplicaCount defaults to 0, an HPA's minReplicas to 1), else spec.replicas (default 1). An InferenceService
 * predictor's minReplicas defaults to 1.
 */
export function minReplicasOf(workload: PolicyResource, template: PodTemplate, all: readonly PolicyResource[]): number {
  const kind = kindOf(workload);
  if (kind === "InferenceService") return numberOr(template.spec.minReplicas, 1);
  const name = nameOf(workload);
  for (const r of all) {
    if (!sameNamespace(r, workload)) continue;
    const target = get(r.props, "spec", "scaleTargetRef");
    if (
      kindOf(r) === "ScaledObject" &&
      asString(get(target, "name")) === name &&
      (asString(get(target, "kind")) ?? "Deployment") === kind
    )
      return numberOr(get(r.props, "spec", "minReplicaCount"), 0);
    if (
      kindOf(r) === "HorizontalPodAutoscaler" &&
      asString(get(target, "name")) === name &&
      asString(get(target, "kind")) === kind
    )
      return numberOr(get(r.props, "spec", "minReplicas"), 1);
  }
  return numberOr(get(workload.props, "spec", "replicas"), 1);
}

const numberOr = (v: unknown, fallback: number): number =>
  typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : fallback;

const REPLICATED = new Set(["Deployment", "StatefulSet", "InferenceService"]);

export const modelsAreHighlyAvailable: StackRule = {
  scope: "stack",
  name: "models-highly-available",
  description:
    "Where the environment profile demands at least 2 replicas (prod, staging): every model workload runs >= that many replicas, is covered by a PodDisruptionBudget, and spreads over zones with a topologySpreadConstraint on topology.kubernetes.io/zone.",
  enforcementLevel: "mandatory",
  rationale:
    "One replica, no PDB or all replicas in one zone means a node drain, a spot reclaim or a zone outage takes the model offline; in prod that is an outage of every client's search.",
  remediation:
    "Set replicas.min >= 2 in the stack file; ModelService must render a PodDisruptionBudget and a zone topologySpreadConstraint from the environment profile.",
  validate(resources, ctx) {
    if (ctx.minReplicas < 2) return [];
    const out: StackViolation[] = [];
    const pdbs = resources.filter((r) => kindOf(r) === "PodDisruptionBudget");
    for (const r of resources) {
      if (!REPLICATED.has(kindOf(r) ?? "")) continue;
      for (const t of podTemplatesOf(r)) {
        if (!isModelWorkload(r, t) || (kindOf(r) === "InferenceService" && t.path !== "spec.predictor")) continue;
        const min = minReplicasOf(r, t, resources);
        if (min < ctx.minReplicas)
          out.push({
            resource: r,
            message: `${describe(r)} can run with ${min} replica(s); ${ctx.environment} needs at least ${ctx.minReplicas}.`,
          });
        if (!pdbs.some((p) => sameNamespace(p, r) && selectorMatches(get(p.props, "spec", "selector"), t.podLabels)))
          out.push({
            resource: r,
            message: `${describe(r)} has no PodDisruptionBudget selecting its pods (labels ${JSON.stringify(t.podLabels)}).`,
          });
        const spread = asArray(t.spec.topologySpreadConstraints).some(
          (c) => asString(get(c, "topologyKey")) === ZONE_KEY,
        );
        if (ctx.minZones >= 2 && !spread)
          out.push({
            resource: r,
            message: `${describe(r)} has no topologySpreadConstraint on ${ZONE_KEY} (${t.path}); ${ctx.environment} spreads over at least ${ctx.minZones} zones.`,
          });
      }
    }
    return out;
  },
};
