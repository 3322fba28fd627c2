import type { GpuNodeGroupConfig } from "../config";
import type { GpuInstanceType } from "../cluster/instances";

/**
 * The NVIDIA device plugin's config manager reads this node label and applies the named entry of its config map
 * (k8s-device-plugin README, "Multiple Config File Example", read 2026-11). Every GPU node group gets its own entry,
 * named after the group, so time-slicing and MIG are set per group; nodes without the label get "default".
 */
export const DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config";
export const DEFAULT_DEVICE_PLUGIN_CONFIG = "default";

/** The device-plugin config entry a GPU node group's nodes select. */
export function devicePluginConfigName(nodeGroup: string): string {
  return nodeGroup;
}

/** `nvidia.com/gpu` a node of this group advertises: physical GPUs, times the time-slicing replicas. */
export function schedulableGpusPerNode(
  group: Pick<GpuNodeGroupConfig, "sharing">,
  instance: Pick<GpuInstanceType, "gpus">,
): number {
  return instance.gpus * (group.sharing.timeSlicingReplicas ?? 1);
}
