import { gpuNodeAffinity, gpuTolerations } from "./device-plugin";
import { CHARTS } from "../versions";

/**
 * DCGM exporter Helm chart, pinned (components/versions.ts). Its GPU series carry a `Hostname` label and its NVLink
 * series `hostname` (internal/pkg/rendermetrics/render_metrics.go at 4.5.3-4.8.2): we add a `node` label when
 * scraping and use neither.
 */
export const DCGM_EXPORTER_CHART = CHARTS.dcgmExporter;
export const DCGM_RELEASE_NAME = "dcgm-exporter";
/** The chart's metrics port name and number (chart values `service.port`, template service.yaml). */
export const DCGM_METRICS_PORT = { name: "metrics", port: 9400 } as const;

/** Helm values: on GPU nodes only; the chart's own ServiceMonitor is off because we render ours (schema-checked). */
export function dcgmExporterValues(): Record<string, unknown> {
  return {
    serviceMonitor: { enabled: false },
    affinity: gpuNodeAffinity(),
    tolerations: gpuTolerations(),
    resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "1Gi" } },
  };
}

/** Selector labels of the chart's Service (chart _helpers.tpl: name and instance). */
export function dcgmServiceSelector(): Record<string, string> {
  return { "app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/instance": DCGM_RELEASE_NAME };
}

/** ServiceMonitor spec for the exporter: every 15 s, with the node name as `node` (the GPU alerts group by it). */
export function dcgmServiceMonitorSpec(namespace: string): Record<string, unknown> {
  return {
    selector: { matchLabels: dcgmServiceSelector() },
    namespaceSelector: { matchNames: [namespace] },
    endpoints: [
      {
        port: DCGM_METRICS_PORT.name,
        path: "/metrics",
        interval: "15s",
        relabelings: [{ sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node", action: "replace" }],
      },
    ],
  };
}
