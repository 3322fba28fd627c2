/**
 * The canary's Prometheus metrics, as gauges in the text exposition format 0.0.4 (prometheus.io/docs/instrumenting/
 * exposition_formats, read 2026-12-01). Small enough not to need a client library in the bundle.
 */
import { CANARY_METRICS, type CanaryMetric } from "../../../components/contracts/canary";
import { escapeLabelValue, labelPairs, metricHeader } from "../../common/prometheus-text";

const key = (labels: Record<string, string>) => labelPairs(labels, Object.keys(labels).sort());

/** Gauges by name and label set. */
export class Registry {
  private readonly values = new Map<CanaryMetric, Map<string, number>>();

  set(metric: CanaryMetric, labels: Record<string, string>, value: number): void {
    let series = this.values.get(metric);
    if (!series) this.values.set(metric, (series = new Map()));
    series.set(key(labels), value);
  }

  /** Drops every series of a model (e.g. its quality while it is skipped), except those of `keep`. */
  dropModel(model: string, keep: readonly CanaryMetric[] = []): void {
    const m = `model="${escapeLabelValue(model)}"`;
    for (const [metric, series] of this.values)
      if (!keep.includes(metric)) for (const k of [...series.keys()]) if (k.split(",").includes(m)) series.delete(k);
  }

  get(metric: CanaryMetric, labels: Record<string, string>): number | undefined {
    return this.values.get(metric)?.get(key(labels));
  }

  expose(): string {
    const lines: string[] = [];
    for (const metric of Object.keys(CANARY_METRICS) as CanaryMetric[]) {
      const series = this.values.get(metric);
      if (!series?.size) continue;
      const { name, help } = CANARY_METRICS[metric];
      lines.push(...metricHeader(name, help, "gauge"));
      for (const [labels, v] of [...series].sort(([a], [b]) => a.localeCompare(b)))
        lines.push(`${name}{${labels}} ${v}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
