import type { ClusterConfig, CostConfig, GpuNodeGroupConfig } from "../../config";
import { CPU_INSTANCE_PRICES, EKS_CONTROL_PLANE_USD_PER_HOUR, lookupInstanceType } from "../../cluster/instances";
import { SYSTEM_NODE_GROUP } from "../../cluster/node-groups";

/**
 * What one node of a group costs per hour, per instance type the group may launch: the catalogue `plan` uses
 * (components/cluster/instances.ts: on-demand, us-east-1, with its source and date), or the stack's spot price
 * for spot groups. A spot group without a spot price is costed at on-demand, an upper bound, and says so.
 */
interface NodePrice {
  readonly nodeGroup: string;
  readonly instanceType: string;
  readonly usdPerHour: number;
  readonly basis: "on-demand" | "spot" | "spot-at-on-demand";
  /** The on-demand price was checked against a dated source (instances.ts header). */
  readonly verified: boolean;
}

/** The fixed part, shown apart from the models: never spread over them. */
interface FixedPrice {
  readonly component: string;
  readonly usdPerHour: number;
}

interface PriceInput {
  readonly cluster: ClusterConfig;
  readonly gpuNodeGroups: Readonly<Record<string, GpuNodeGroupConfig>>;
  readonly cost: Pick<CostConfig, "spotUsdPerHour">;
}

export function nodePrices(i: PriceInput): NodePrice[] {
  const out: NodePrice[] = [];
  for (const [group, g] of Object.entries(i.gpuNodeGroups))
    for (const type of g.instanceTypes) {
      const instance = lookupInstanceType(type);
      if (!instance) continue; // the config rules refuse types outside the catalogue
      const spot = g.capacityType === "SPOT" ? i.cost.spotUsdPerHour[type] : undefined;
      out.push({
        nodeGroup: group,
        instanceType: type,
        usdPerHour: spot ?? instance.onDemandUsdPerHour,
        basis: g.capacityType === "SPOT" ? (spot === undefined ? "spot-at-on-demand" : "spot") : "on-demand",
        verified: instance.priceVerified,
      });
    }
  if (i.cluster.mode === "eks") {
    const s = i.cluster.systemNodeGroup;
    const price = CPU_INSTANCE_PRICES[s.instanceType];
    if (price !== undefined)
      out.push({
        nodeGroup: SYSTEM_NODE_GROUP,
        instanceType: s.instanceType,
        usdPerHour: price,
        basis: "on-demand",
        verified: false,
      });
  }
  return out;
}

/** Fixed costs that are not nodes: the EKS control plane (eks mode). System nodes are priced as a node group. */
export function fixedPrices(cluster: ClusterConfig): FixedPrice[] {
  return cluster.mode === "eks" ? [{ component: "control-plane", usdPerHour: EKS_CONTROL_PLANE_USD_PER_HOUR }] : [];
}
