import type { PlatformConfig } from "../../config";
import { gpuInstanceOf } from "../../cluster/instances";
import { schedulableGpusPerNode } from "../../gpu/sharing";
import { nodePrices } from "./prices";
import { workUnitOf, type WorkUnit } from "./work";

/**
 * What a model costs per hour and per million work units, from the stack alone (plan.md "Cost per model"): the
 * same attribution as the recording rules (a replica pays its nvidia.com/gpu share of a node of its group, at the
 * group's price), at the model's replica range, and, when the stack gives its throughput, at its target
 * utilisation. Pure.
 */
interface ModelPrice {
  readonly model: string;
  readonly nodeGroup?: string;
  readonly instanceType?: string;
  readonly basis?: "on-demand" | "spot" | "spot-at-on-demand";
  /** Share of one node a replica requests (nvidia.com/gpu requested / advertised per node). */
  readonly nodeShare: number;
  readonly usdPerReplicaHour: number;
  readonly replicas: { readonly min: number; readonly max: number };
  readonly work: WorkUnit;
  readonly workPerSecondPerReplica?: number;
  readonly targetUtilisation: number;
  /** USD per million work units at the target utilisation; undefined without a throughput figure or a GPU. */
  readonly usdPerMillionAtTarget?: number;
}

export function modelPrices(
  config: Pick<PlatformConfig, "models" | "gpuNodeGroups" | "cluster" | "cost" | "gateway">,
): ModelPrice[] {
  const prices = nodePrices(config);
  return config.models.map((m) => {
    const c = config.cost.models[m.name];
    const targetUtilisation = c?.targetUtilisation ?? 0.6;
    const base = {
      model: m.name,
      replicas: { min: m.replicas.min, max: m.replicas.max },
      work: workUnitOf(m, config.gateway),
      workPerSecondPerReplica: c?.workPerSecondPerReplica,
      targetUtilisation,
    };
    const groupName = m.gpu?.nodeGroup;
    const group = groupName ? config.gpuNodeGroups[groupName] : undefined;
    const instance = gpuInstanceOf(group);
    if (!m.gpu || !group || !instance) return { ...base, nodeShare: 0, usdPerReplicaHour: 0 };
    const price = prices.find((p) => p.nodeGroup === groupName && p.instanceType === group.instanceTypes[0]);
    const nodeShare = m.gpu.count / schedulableGpusPerNode(group, instance);
    const usdPerReplicaHour = nodeShare * (price?.usdPerHour ?? instance.onDemandUsdPerHour);
    const perSecond = c?.workPerSecondPerReplica;
    return {
      ...base,
      nodeGroup: groupName,
      instanceType: group.instanceTypes[0],
      basis: price?.basis,
      nodeShare,
      usdPerReplicaHour,
      usdPerMillionAtTarget:
        perSecond === undefined ? undefined : (usdPerReplicaHour / (perSecond * targetUtilisation * 3600)) * 1e6,
    };
  });
}
