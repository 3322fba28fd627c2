import { clusterBaseCost, gpuCapacity, type GpuNodeGroupCapacity, type MinMax } from "../components/cluster/capacity";
import type { PlatformConfig } from "../components/config";

/**
 * A GPU node group at its real minimum: minSize, or more when the models' minimum replicas request more GPUs than
 * minSize nodes give (the autoscaler then keeps the extra nodes), never more than maxSize.
 */
export interface GroupMinimum {
  readonly nodes: number;
  readonly gpus: number;
  readonly usdPerMonth: number;
  /** The models' minimum replicas keep more nodes than minSize. */
  readonly raisedByModels: boolean;
}

export const perNode = (g: GpuNodeGroupCapacity) => ({
  gpus: g.nodes.max ? g.gpus.max / g.nodes.max : 0,
  schedulable: g.nodes.max ? g.schedulableGpus.max / g.nodes.max : 0,
  usdPerMonth: g.nodes.max ? g.usdPerMonth.max / g.nodes.max : 0,
});

export function groupMinimum(g: GpuNodeGroupCapacity): GroupMinimum {
  const node = perNode(g);
  const needed = node.schedulable ? Math.ceil(g.requestedGpus.min / node.schedulable) : 0;
  const nodes = Math.min(g.nodes.max, Math.max(g.nodes.min, needed));
  return { nodes, gpus: nodes * node.gpus, usdPerMonth: nodes * node.usdPerMonth, raisedByModels: nodes > g.nodes.min };
}

export interface StackCost {
  readonly groups: readonly GpuNodeGroupCapacity[];
  /** Physical GPUs at the real minimum and at maximum scale. */
  readonly gpus: MinMax;
  readonly gpuUsdPerMonth: MinMax;
  /** GPU nodes + EKS control plane + system nodes (eks mode); GPU nodes only for an existing cluster. */
  readonly totalUsdPerMonth: MinMax;
}

/** What the stack costs per month (on-demand, 730 h) at its real minimum and at maximum scale. */
export function stackCost(config: PlatformConfig): StackCost {
  const groups = gpuCapacity(config.gpuNodeGroups, config.models);
  const mins = groups.map(groupMinimum);
  const gpus = { min: sum(mins.map((m) => m.gpus)), max: sum(groups.map((g) => g.gpus.max)) };
  const gpuUsdPerMonth = { min: sum(mins.map((m) => m.usdPerMonth)), max: sum(groups.map((g) => g.usdPerMonth.max)) };
  const base = clusterBaseCost(config.cluster);
  const fixed = base?.controlPlaneUsdPerMonth ?? 0;
  return {
    groups,
    gpus,
    gpuUsdPerMonth,
    totalUsdPerMonth: {
      min: gpuUsdPerMonth.min + fixed + (base?.systemUsdPerMonth?.min ?? 0),
      max: gpuUsdPerMonth.max + fixed + (base?.systemUsdPerMonth?.max ?? 0),
    },
  };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export const usd = (x: number) => `$${Math.round(x).toLocaleString("en-US")}`;
