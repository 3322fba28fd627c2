/**
 * The canary's Prometheus metrics, as gauges in the text exposition format 0.0.4 (prometheus.io/docs/instrumenting/
 * exposition_formats, read 2026-12-01). Small enough not to need a client library in the bundle.
 */
export const CANARY_METRICS = {
  checkSuccess: {
    name: "retrieval_stack_canary_check_success",
    help: "1 when the canary's last run of this check on this model passed, 0 when it failed.",
  },
  mrrAt10: { name: "retrieval_stack_canary_mrr_at_10", help: "MRR@10 of the model on the labelled set (0..1)." },
  ndcgAt10: { name: "retrieval_stack_canary_ndcg_at_10", help: "NDCG@10 of the model on the labelled set (0..1)." },
  latency: {
    name: "retrieval_stack_canary_latency_seconds",
    help: "Wall time of the canary's last run of this check on this model, retries included.",
  },
  lastRun: {
    name: "retrieval_stack_canary_last_run_timestamp_seconds",
    help: "Unix time the canary last finished a run for this model (also when it skipped the model outside its active hours).",
  },
  skipped: {
    name: "retrieval_stack_canary_skipped",
    help: "1 while the canary skips this scale-to-zero model outside its active hours (no calls, no quality series).",
  },
} as const;

export type CanaryMetric = keyof typeof CANARY_METRICS;
export const CANARY_METRIC_NAMES = Object.values(CANARY_METRICS).map((m) => m.name);

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const key = (labels: Record<string, string>) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(",");

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
    const m = `model="${escapeLabel(model)}"`;
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
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const [labels, v] of [...series].sort(([a], [b]) => a.localeCompare(b)))
        lines.push(`${name}{${labels}} ${v}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
