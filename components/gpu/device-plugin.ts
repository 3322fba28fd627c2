import * as YAML from "yaml";
import type { GpuNodeGroupConfig } from "../config";
import { GPU_CLASS_LABEL, GPU_RESOURCE, GPU_TAINT } from "../k8s/meta";
import { DEFAULT_DEVICE_PLUGIN_CONFIG, devicePluginConfigName } from "./sharing";
import { CHARTS } from "../versions";

/** NVIDIA device plugin Helm chart, pinned (components/versions.ts). */
export const DEVICE_PLUGIN_CHART = CHARTS.nvidiaDevicePlugin;

/** Node label GPU feature discovery sets and that NVIDIA charts select on; our GPU nodes carry it (node-groups.ts). */
const GPU_PRESENT_LABEL = "nvidia.com/gpu.present";

/** GPU nodes only: ours carry the GPU class label; nodes of an existing cluster may carry GFD's label instead. */
export function gpuNodeAffinity(): Record<string, unknown> {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: GPU_CLASS_LABEL, operator: "Exists" }] },
          { matchExpressions: [{ key: GPU_PRESENT_LABEL, operator: "In", values: ["true"] }] },
        ],
      },
    },
  };
}

/** Tolerates the GPU taint (whatever its value) so the daemon runs where nothing else may. */
export function gpuTolerations(): Record<string, unknown>[] {
  return [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }];
}

/**
 * One device-plugin config (the plugin's config file format v1, k8s-device-plugin README "Configuration Option
 * Details" and "Shared Access to GPUs with CUDA Time-Slicing", read 2026-11).
 */
function devicePluginConfig(sharing: GpuNodeGroupConfig["sharing"] | undefined): string {
  const config: Record<string, unknown> = { version: "v1", flags: { migStrategy: sharing?.migStrategy ?? "none" } };
  if (sharing?.timeSlicingReplicas) {
    config.sharing = {
      timeSlicing: {
        // Keep the resource name nvidia.com/gpu, so models need not know whether their GPU is shared.
        renameByDefault: false,
        // A pod asking for 2 slices would still get one GPU's time: refuse it instead of pretending.
        failRequestsGreaterThanOne: true,
        resources: [{ name: GPU_RESOURCE, replicas: sharing.timeSlicingReplicas }],
      },
    };
  }
  return YAML.stringify(config);
}

/**
 * Helm values: a config map with a "default" entry (no sharing) and one entry per GPU node group, selected on each
 * node by its `nvidia.com/device-plugin.config` label; scheduled only on GPU nodes.
 */
export function devicePluginValues(
  gpuNodeGroups: Readonly<Record<string, GpuNodeGroupConfig>>,
): Record<string, unknown> {
  const map: Record<string, string> = { [DEFAULT_DEVICE_PLUGIN_CONFIG]: devicePluginConfig(undefined) };
  for (const [name, group] of Object.entries(gpuNodeGroups))
    map[devicePluginConfigName(name)] = devicePluginConfig(group.sharing);
  return {
    config: { map, default: DEFAULT_DEVICE_PLUGIN_CONFIG },
    // We label nodes ourselves (node-groups.ts); GFD and its NFD dependency would add two more daemons per node.
    gfd: { enabled: false },
    nfd: { enabled: false },
    affinity: gpuNodeAffinity(),
    tolerations: gpuTolerations(),
    priorityClassName: "system-node-critical",
    // Crash (and show in the pod status) when the driver is missing instead of advertising no GPUs.
    failOnInitError: true,
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
  };
}
