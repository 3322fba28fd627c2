import { NODE_GROUP_LABEL } from "../../components/k8s/meta";
import { asArray, asString, get, kindOf, stringMap } from "./k8s";
import type { PolicyContext, PolicyResource, ResourceRule } from "./types";

/** EKS managed node groups: the @pulumi/eks component and the AWS resource it creates. `capacityType: SPOT` is spot-only. */
const MANAGED_NODE_GROUP_TYPES = new Set(["eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup"]);
/** Self-managed @pulumi/eks node groups: a `spotPrice` makes the whole group spot. */
const SELF_MANAGED_NODE_GROUP_TYPES = new Set(["eks:index:NodeGroup", "eks:index:NodeGroupV2"]);

/** Names under which a node group may be opted in: its node-group label, its AWS name, its Pulumi name. */
function identities(r: PolicyResource): string[] {
  const labels =
    kindOf(r) === "NodePool"
      ? stringMap(get(r.props, "spec", "template", "metadata", "labels"))
      : stringMap(r.props.labels);
  return [
    labels[NODE_GROUP_LABEL],
    asString(r.props.nodeGroupName),
    asString(get(r.props, "metadata", "name")),
    r.name,
  ].filter((x): x is string => !!x);
}

function optedIn(r: PolicyResource, ctx: PolicyContext): boolean {
  const ids = identities(r);
  return ctx.spotOptInNodeGroups.some((g) => ids.some((id) => id === g || id.endsWith(`-${g}`)));
}

/** Why a node group or Karpenter NodePool is spot-only, or undefined. */
export function spotOnlyReason(r: PolicyResource): string | undefined {
  if (MANAGED_NODE_GROUP_TYPES.has(r.type) && asString(r.props.capacityType)?.toUpperCase() === "SPOT")
    return "capacityType is SPOT";
  if (SELF_MANAGED_NODE_GROUP_TYPES.has(r.type) && r.props.spotPrice !== undefined && r.props.spotPrice !== "")
    return "it sets spotPrice";
  if (kindOf(r) === "NodePool") {
    const capacity = asArray(get(r.props, "spec", "template", "spec", "requirements")).find(
      (q) => get(q, "key") === "karpenter.sh/capacity-type",
    );
    const values = asArray(get(capacity, "values")).map(String);
    if (get(capacity, "operator") === "In" && values.length > 0 && values.every((v) => v === "spot"))
      return "its karpenter.sh/capacity-type requirement allows only spot";
  }
  return undefined;
}

export const prodNodeGroupsNotSpotOnly: ResourceRule = {
  scope: "resource",
  name: "prod-node-groups-not-spot-only",
  description:
    "Where the environment profile requires an opt-in (prod), no node group or NodePool is spot-only unless its config sets allowSpotInProd.",
  enforcementLevel: "mandatory",
  rationale:
    "AWS reclaims spot capacity with two minutes' notice and often reclaims a whole instance type at once: every replica of a model on that group disappears together, defeating the replicas and PDBs.",
  remediation:
    "Use capacityType ON_DEMAND for the group, or set gpuNodeGroups.<name>.allowSpotInProd: true in the stack file to accept the risk explicitly.",
  validate(resource, ctx) {
    if (!ctx.spotNeedsOptIn) return [];
    const why = spotOnlyReason(resource);
    if (!why || optedIn(resource, ctx)) return [];
    return [
      `${resource.type} "${resource.name}" is spot-only (${why}) in ${ctx.environment}, and its node group does not set allowSpotInProd.`,
    ];
  },
};
