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
const DCGM_METRICS_PORT = { name: "metrics", port: 9400 } as const;

/**
 * The fields the exporter collects: what our alerts and dashboards read, nothing else. The chart's `customMetrics`
 * replaces its whole default list (deployment/values.yaml: "Must be the complete list and is not additive";
 * templates/metrics-configmap.yaml writes it to the ConfigMap the daemonset mounts as
 * /etc/dcgm-exporter/default-counters.csv, which the default `arguments` pass with -f). Format per line:
 * DCGM field, Prometheus type, help (etc/default-counters.csv). All at NVIDIA/dcgm-exporter tag 4.5.3-4.8.2
 * (691c927), read 2026-12-07.
 *
 * DCGM_FI_DEV_XID_ERRORS holds the last Xid and never resets, so it cannot tell a repeat from the first one. The
 * exporter's own DCGM_EXP_XID_ERRORS_COUNT (commented out in the upstream defaults) counts the Xids of each GPU
 * within a sliding window, labelled `xid` and `window_size_in_ms`, 0 when there were none
 * (internal/pkg/collector/xid_collector.go, expcollector.go); the window is the flag --xid-count-window-size,
 * default 5 minutes (pkg/cmd/app.go).
 */
export const DCGM_COUNTERS: readonly { field: string; type: "gauge" | "counter"; help: string }[] = [
  { field: "DCGM_FI_DEV_GPU_UTIL", type: "gauge", help: "GPU utilization (in %)." },
  { field: "DCGM_FI_DEV_FB_FREE", type: "gauge", help: "Framebuffer memory free (in MiB)." },
  { field: "DCGM_FI_DEV_FB_USED", type: "gauge", help: "Framebuffer memory used (in MiB)." },
  { field: "DCGM_FI_DEV_GPU_TEMP", type: "gauge", help: "GPU temperature (in C)." },
  { field: "DCGM_FI_DEV_POWER_USAGE", type: "gauge", help: "Power draw (in W)." },
  { field: "DCGM_FI_DEV_XID_ERRORS", type: "gauge", help: "Value of the last XID error encountered." },
  { field: "DCGM_EXP_XID_ERRORS_COUNT", type: "counter", help: "Count of XID errors within the window." },
];
/** The Xid count per GPU and Xid code within the exporter's window (see DCGM_COUNTERS). */
export const DCGM_XID_COUNT = "DCGM_EXP_XID_ERRORS_COUNT";
/** dcgm-exporter's default --xid-count-window-size (5 minutes), which we keep. */
export const DCGM_XID_WINDOW_MINUTES = 5;

/** The chart's `customMetrics` text (CSV lines) for DCGM_COUNTERS. */
function dcgmCustomMetrics(): string {
  return `${DCGM_COUNTERS.map((c) => `${c.field}, ${c.type}, ${c.help}`).join("\n")}\n`;
}

/** Helm values: on GPU nodes only; the chart's own ServiceMonitor is off because we render ours (schema-checked). */
export function dcgmExporterValues(): Record<string, unknown> {
  return {
    serviceMonitor: { enabled: false },
    customMetrics: dcgmCustomMetrics(),
    affinity: gpuNodeAffinity(),
    tolerations: gpuTolerations(),
    resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "1Gi" } },
  };
}

/** Selector labels of the chart's Service (chart _helpers.tpl: name and instance). */
function dcgmServiceSelector(): Record<string, string> {
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
