import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { GpuNodeGroupConfig } from "../config";
import { childOptions, standardLabels } from "../k8s/meta";
import { DEVICE_PLUGIN_CHART, devicePluginValues } from "./device-plugin";
import { DCGM_EXPORTER_CHART, DCGM_RELEASE_NAME, dcgmExporterValues, dcgmServiceMonitorSpec } from "./dcgm";
import { pinnedRelease } from "../k8s/helm";
import { createServiceMonitor } from "../k8s/service-monitor";
import { NAMESPACE_POD_SECURITY, podSecurityLabels } from "../k8s/namespaces";

export interface GpuRuntimeArgs {
  /** The `k8s.Provider` of the target cluster: every child is created with it. */
  readonly provider: k8s.Provider;
  /** The `gpuNodeGroups` config section: the device plugin's sharing (time-slicing, MIG) per group. None: nothing is installed. */
  readonly gpuNodeGroups: Readonly<Record<string, GpuNodeGroupConfig>>;
  /** Install the DCGM exporter ServiceMonitor (needs the Prometheus Operator CRDs). */
  readonly monitoring: boolean;
  /**
   * Namespace of the GPU daemons (created here).
   * @default "gpu-runtime"
   */
  readonly namespace?: string;
  /**
   * The cluster already runs a device plugin and DCGM exporter (GPU Operator): install nothing.
   * @default false
   */
  readonly preinstalled?: boolean;
}

export const GPU_RUNTIME_NAMESPACE = "gpu-runtime";

/**
 * NVIDIA device plugin (GPU sharing by time-slicing or MIG) and DCGM exporter, on GPU nodes only. A stack without
 * GPU node groups (the CPU-only local stack), or an existing cluster whose GPU runtime is preinstalled, gets nothing.
 */
export class GpuRuntime extends pulumi.ComponentResource {
  readonly devicePlugin: k8s.helm.v3.Release | undefined;
  readonly dcgmExporter: k8s.helm.v3.Release | undefined;

  constructor(name: string, args: GpuRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:gpu:GpuRuntime", name, {}, opts);
    if (Object.keys(args.gpuNodeGroups).length === 0 || args.preinstalled) {
      this.devicePlugin = undefined;
      this.dcgmExporter = undefined;
      this.registerOutputs({});
      return;
    }
    const nsName = args.namespace ?? GPU_RUNTIME_NAMESPACE;
    const ns = new k8s.core.v1.Namespace(
      `${name}-ns`,
      {
        metadata: {
          name: nsName,
          // The device plugin and DCGM need host paths (NAMESPACE_POD_SECURITY says why); audit stays at restricted.
          labels: standardLabels(
            nsName,
            "gpu-runtime",
            podSecurityLabels(NAMESPACE_POD_SECURITY[GPU_RUNTIME_NAMESPACE]!.level),
          ),
        },
      },
      childOptions(this, args.provider),
    );
    const inNs = childOptions(this, args.provider, { dependsOn: [ns] });

    this.devicePlugin = pinnedRelease(
      `${name}-device-plugin`,
      {
        name: "nvidia-device-plugin",
        namespace: nsName,
        chart: DEVICE_PLUGIN_CHART,
        values: devicePluginValues(args.gpuNodeGroups),
      },
      inNs,
    );

    this.dcgmExporter = pinnedRelease(
      `${name}-dcgm-exporter`,
      {
        name: DCGM_RELEASE_NAME,
        namespace: nsName,
        chart: DCGM_EXPORTER_CHART,
        values: dcgmExporterValues(),
      },
      inNs,
    );

    if (args.monitoring) {
      createServiceMonitor(
        `${name}-dcgm-exporter`,
        { name: DCGM_RELEASE_NAME, namespace: nsName, labels: standardLabels(DCGM_RELEASE_NAME, "gpu-metrics") },
        dcgmServiceMonitorSpec(nsName),
        childOptions(this, args.provider, { dependsOn: [this.dcgmExporter] }),
      );
    }
    this.registerOutputs({});
  }
}
