/**
 * Prometheus' text exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats, read 2026-12-01),
 * the parts every program of ours writes by hand: label values escaped, label sets, the HELP/TYPE header.
 * Shared by the gateway's and the canary's /metrics (images/common: helpers more than one program runs).
 */

/** A label value as the format wants it: backslash, newline and double quote escaped. */
export const escapeLabelValue = (v: string): string =>
  v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** `a="1",b="2"` (in the given order; sort the keys first for a stable series key). */
export function labelPairs(labels: Readonly<Record<string, string>>, keys = Object.keys(labels)): string {
  return keys.map((k) => `${k}="${escapeLabelValue(labels[k] ?? "")}"`).join(",");
}

/** The two comment lines that open a metric family. */
export function metricHeader(name: string, help: string, type: "counter" | "gauge" | "histogram"): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}
