import type { ClusterConfig, GpuNodeGroupConfig, ModelConfig } from "../config";
import { schedulableGpusPerNode } from "../gpu/sharing";
import {
  CPU_INSTANCE_PRICES,
  EKS_CONTROL_PLANE_USD_PER_HOUR,
  HOURS_PER_MONTH,
  gpuInstanceOf,
  type GpuClass,
  type GpuModel,
} from "./instances";

/** A range at minimum and at maximum scale. */
export interface MinMax {
  readonly min: number;
  readonly max: number;
}

/** What a GPU node group gives, and costs, at minimum and maximum scale (a stack output and a plan.md table). */
export interface GpuNodeGroupCapacity {
  readonly nodeGroup: string;
  readonly instanceType: string;
  readonly gpuClass: GpuClass;
  readonly gpuModel: GpuModel;
  readonly gpuMemoryGiB: number;
  readonly capacityType: "ON_DEMAND" | "SPOT";
  readonly nodes: MinMax;
  /** Physical GPUs. */
  readonly gpus: MinMax;
  /** `nvidia.com/gpu` the nodes advertise (physical x time-slicing replicas). */
  readonly schedulableGpus: MinMax;
  /** `nvidia.com/gpu` the models pinned to this group request at their min / max replicas. */
  readonly requestedGpus: MinMax;
  /** Models pinned to this group. */
  readonly models: readonly string[];
  /** On-demand USD per month (730 h); an upper bound for spot. */
  readonly usdPerMonth: MinMax;
  readonly priceVerified: boolean;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function gpuNodeGroupCapacity(
  name: string,
  group: GpuNodeGroupConfig,
  models: readonly ModelConfig[] = [],
): GpuNodeGroupCapacity | undefined {
  const instanceType = group.instanceTypes[0] ?? "";
  const instance = gpuInstanceOf(group);
  if (!instance) return undefined;
  const perNode = schedulableGpusPerNode(group, instance);
  const pinned = models.filter((m) => m.gpu?.nodeGroup === name);
  const monthly = (nodes: number) => round2(nodes * instance.onDemandUsdPerHour * HOURS_PER_MONTH);
  return {
    nodeGroup: name,
    instanceType,
    gpuClass: instance.gpuClass,
    gpuModel: instance.gpuModel,
    gpuMemoryGiB: instance.gpuMemoryGiB,
    capacityType: group.capacityType,
    nodes: { min: group.minSize, max: group.maxSize },
    gpus: { min: group.minSize * instance.gpus, max: group.maxSize * instance.gpus },
    schedulableGpus: { min: group.minSize * perNode, max: group.maxSize * perNode },
    requestedGpus: {
      min: pinned.reduce((n, m) => n + m.replicas.min * (m.gpu?.count ?? 0), 0),
      max: pinned.reduce((n, m) => n + m.replicas.max * (m.gpu?.count ?? 0), 0),
    },
    models: pinned.map((m) => m.name),
    usdPerMonth: { min: monthly(group.minSize), max: monthly(group.maxSize) },
    priceVerified: instance.priceVerified,
  };
}

export function gpuCapacity(
  groups: Readonly<Record<string, GpuNodeGroupConfig>>,
  models: readonly ModelConfig[] = [],
): GpuNodeGroupCapacity[] {
  return Object.entries(groups).flatMap(([name, g]) => gpuNodeGroupCapacity(name, g, models) ?? []);
}

/** Cluster cost outside the GPU groups: EKS control plane and the system node group (eks mode only). */
export interface ClusterBaseCost {
  readonly controlPlaneUsdPerMonth: number;
  readonly systemNodes: MinMax;
  readonly systemInstanceType: string;
  /** undefined when the system instance type has no price in CPU_INSTANCE_PRICES. */
  readonly systemUsdPerMonth: MinMax | undefined;
}

export function clusterBaseCost(cluster: ClusterConfig): ClusterBaseCost | undefined {
  if (cluster.mode !== "eks") return undefined;
  const s = cluster.systemNodeGroup;
  const price = CPU_INSTANCE_PRICES[s.instanceType];
  return {
    controlPlaneUsdPerMonth: round2(EKS_CONTROL_PLANE_USD_PER_HOUR * HOURS_PER_MONTH),
    systemNodes: { min: s.minSize, max: s.maxSize },
    systemInstanceType: s.instanceType,
    systemUsdPerMonth:
      price === undefined
        ? undefined
        : { min: round2(s.minSize * price * HOURS_PER_MONTH), max: round2(s.maxSize * price * HOURS_PER_MONTH) },
  };
}
