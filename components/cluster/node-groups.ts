import type { GpuNodeGroupConfig } from "../config";
import { GPU_CLASS_LABEL, GPU_TAINT, NODE_GROUP_LABEL, GPU_RESOURCE } from "../k8s/meta";
import { DEVICE_PLUGIN_CONFIG_LABEL, devicePluginConfigName, schedulableGpusPerNode } from "../gpu/sharing";
import { GPU_MODEL_FACTS, gpuInstanceOf, type GpuInstanceType } from "./instances";

/**
 * EKS managed node groups with NVIDIA drivers and the container toolkit preinstalled (EKS API Nodegroup.amiType,
 * AWS CDK NodegroupAmiType "AL2023_X86_64_NVIDIA: Amazon Linux 2023 with NVIDIA drivers", read 2026-11).
 * The device plugin is not part of the AMI; GpuRuntime installs it.
 */
export const GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA";
export const SYSTEM_AMI_TYPE = "AL2023_x86_64_STANDARD";
/** Label value of the system (CPU) node group; controllers and monitoring select it. */
export const SYSTEM_NODE_GROUP = "system";

/** The GPU product label GPU feature discovery would set; we set it statically (GFD is not installed). */
const GPU_PRODUCT_LABEL = "nvidia.com/gpu.product";
/** Set by GFD on GPU nodes; common charts select it, so we set it too. */
const GPU_PRESENT_LABEL = "nvidia.com/gpu.present";
/** cluster-autoscaler's AWS provider treats nodes with this label as GPU nodes (cloudprovider/aws, GPULabel). */
const CA_ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator";

/** Labels we manage on GPU nodes; user labels may not override them (config rule). */
export const RESERVED_NODE_LABELS = [
  NODE_GROUP_LABEL,
  GPU_CLASS_LABEL,
  GPU_PRODUCT_LABEL,
  GPU_PRESENT_LABEL,
  CA_ACCELERATOR_LABEL,
  DEVICE_PLUGIN_CONFIG_LABEL,
] as const;

/** EKS writes taint effects as an enum (NO_SCHEDULE), Kubernetes as NoSchedule. */
const EKS_TAINT_EFFECT = {
  NoSchedule: "NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
} as const;
const GPU_NODE_TAINT_EKS = {
  key: GPU_TAINT.key,
  value: GPU_TAINT.value,
  effect: EKS_TAINT_EFFECT[GPU_TAINT.effect],
} as const;

/**
 * Splits a node-group total over zones: every zone gets the floor share, the first zones one more for the
 * remainder (3 over 2 zones = [2, 1]). Sizes in config are totals across zones.
 */
export function splitAcrossZones(total: number, zones: number): number[] {
  if (zones <= 0) return [];
  const base = Math.floor(total / zones);
  return Array.from({ length: zones }, (_, i) => base + (i < total % zones ? 1 : 0));
}

/** Kubernetes labels of every node of a GPU node group. */
function gpuNodeLabels(name: string, group: GpuNodeGroupConfig, instance: GpuInstanceType): Record<string, string> {
  const facts = GPU_MODEL_FACTS[instance.gpuModel];
  return {
    ...group.labels,
    [NODE_GROUP_LABEL]: name,
    [GPU_CLASS_LABEL]: instance.gpuClass,
    [GPU_PRODUCT_LABEL]: facts.product,
    [GPU_PRESENT_LABEL]: "true",
    [CA_ACCELERATOR_LABEL]: facts.accelerator,
    [DEVICE_PLUGIN_CONFIG_LABEL]: devicePluginConfigName(name),
  };
}

/**
 * cluster-autoscaler needs these ASG tags to scale a group up from zero nodes: with no node to copy, it builds the
 * node from them (cluster-autoscaler cloudprovider/aws README, "Auto-Discovery Setup" / scaling from 0, read
 * 2026-11). EKS does not copy managed-node-group labels and taints to the ASG, so we tag the ASG ourselves.
 */
function nodeTemplateTags(
  labels: Record<string, string>,
  schedulableGpus: number,
  diskSizeGiB: number,
): Record<string, string> {
  const prefix = "k8s.io/cluster-autoscaler/node-template";
  return {
    ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [`${prefix}/label/${k}`, v])),
    [`${prefix}/taint/${GPU_TAINT.key}`]: `${GPU_TAINT.value}:${GPU_TAINT.effect}`,
    [`${prefix}/resources/${GPU_RESOURCE}`]: String(schedulableGpus),
    [`${prefix}/resources/ephemeral-storage`]: `${diskSizeGiB}Gi`,
  };
}

/** One EKS managed node group: a GPU node group's share in one zone. */
export interface ZonalGpuNodeGroup {
  /** Pulumi resource name and EKS node group name, e.g. "l4-us-east-1a". */
  readonly name: string;
  readonly group: string;
  readonly zone: string;
  /** Index of the zone in cluster.availabilityZones (= index of its private subnet). */
  readonly zoneIndex: number;
  readonly instanceTypes: readonly string[];
  readonly capacityType: "ON_DEMAND" | "SPOT";
  readonly diskSizeGiB: number;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredSize: number;
  readonly labels: Record<string, string>;
  readonly taint: typeof GPU_NODE_TAINT_EKS;
  readonly autoscalerTags: Record<string, string>;
}

/**
 * One managed node group per zone, so cluster-autoscaler (with --balance-similar-node-groups) can add nodes in the
 * zone a pending pod needs and keep zones even; a zone's loss leaves the others' capacity. The EKS docs ask for
 * exactly this for zonal workloads ("configure multiple node groups, each scoped to a single Availability Zone").
 */
export function zonalGpuNodeGroups(
  name: string,
  group: GpuNodeGroupConfig,
  zones: readonly string[],
): ZonalGpuNodeGroup[] {
  const instance = gpuInstanceOf(group);
  if (!instance)
    throw new Error(
      `gpuNodeGroups.${name}: instance type ${group.instanceTypes[0]} is not in the catalogue (the config rules should have refused it)`,
    );
  const labels = gpuNodeLabels(name, group, instance);
  const mins = splitAcrossZones(group.minSize, zones.length);
  const maxs = splitAcrossZones(group.maxSize, zones.length);
  const desireds = splitAcrossZones(group.desiredSize ?? group.minSize, zones.length);
  const tags = nodeTemplateTags(labels, schedulableGpusPerNode(group, instance), group.diskSizeGiB);
  return zones.map((zone, i) => ({
    name: `${name}-${zone}`,
    group: name,
    zone,
    zoneIndex: i,
    instanceTypes: group.instanceTypes,
    capacityType: group.capacityType,
    diskSizeGiB: group.diskSizeGiB,
    minSize: mins[i]!,
    maxSize: maxs[i]!,
    desiredSize: desireds[i]!,
    labels,
    taint: GPU_NODE_TAINT_EKS,
    autoscalerTags: tags,
  }));
}

/** One EKS managed node group: the system (CPU) node group's share in one zone. */
interface ZonalSystemNodeGroup {
  /** Pulumi resource name and EKS node group name, e.g. "system-us-east-1a". */
  readonly name: string;
  readonly zone: string;
  readonly zoneIndex: number;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredSize: number;
  readonly labels: Record<string, string>;
  /** Lets cluster-autoscaler build a node of a group at zero nodes (see nodeTemplateTags). */
  readonly autoscalerTags: Record<string, string>;
}

/**
 * The system node group as one managed node group per zone. Prometheus, Loki and Alertmanager are single pods on
 * EBS volumes, which live in one zone: rescheduled, such a pod can run only in its volume's zone, and a node group
 * spanning zones may add its node anywhere (the pod stays Pending). cluster-autoscaler's AWS README advises "an
 * ASG-per-AZ while enabling --balance-similar-node-groups" for persistent volumes (kubernetes/autoscaler
 * cluster-autoscaler/cloudprovider/aws/README.md, "Common Notes and Gotchas", read 2026-12-07); autoscaler.ts sets
 * that flag. Sizes in config are totals across zones; every zone may grow to at least one node, from zero too (the
 * node-template label tag), so a volume's zone always has room.
 */
export function zonalSystemNodeGroups(
  size: { readonly minSize: number; readonly maxSize: number; readonly desiredSize?: number },
  zones: readonly string[],
): ZonalSystemNodeGroup[] {
  const mins = splitAcrossZones(size.minSize, zones.length);
  const maxs = splitAcrossZones(size.maxSize, zones.length);
  const desireds = splitAcrossZones(size.desiredSize ?? size.minSize, zones.length);
  const labels = { [NODE_GROUP_LABEL]: SYSTEM_NODE_GROUP };
  const autoscalerTags = Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [`k8s.io/cluster-autoscaler/node-template/label/${k}`, v]),
  );
  return zones.map((zone, i) => {
    const maxSize = Math.max(1, maxs[i]!, mins[i]!);
    return {
      name: `${SYSTEM_NODE_GROUP}-${zone}`,
      zone,
      zoneIndex: i,
      minSize: mins[i]!,
      maxSize,
      desiredSize: Math.min(maxSize, Math.max(mins[i]!, desireds[i]!)),
      labels,
      autoscalerTags,
    };
  });
}
