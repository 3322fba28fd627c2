/**
 * Prometheus metrics in the text exposition format (prometheus.io/docs/instrumenting/exposition_formats, read
 * 2026-12-01), written by hand: counters, gauges and histograms with fixed label names are all the gateway needs.
 * Label values are bounded by the caller (key NAMES, configured model names, "unknown" otherwise).
 */
import { labelPairs, metricHeader } from "../../common/prometheus-text";

type Labels = Readonly<Record<string, string>>;

const render = (labels: Labels) => {
  const pairs = labelPairs(labels);
  return pairs ? `{${pairs}}` : "";
};
/** The series key of a label set (a loop, not map + join: it runs several times per request). */
const keyOf = (names: readonly string[], labels: Labels) => {
  let k = "";
  for (let i = 0; i < names.length; i++) k += i === 0 ? (labels[names[i]!] ?? "") : `\u0000${labels[names[i]!] ?? ""}`;
  return k;
};

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}
  abstract lines(): string[];
  header(type: "counter" | "gauge" | "histogram"): string[] {
    return metricHeader(this.name, this.help, type);
  }
  protected pick(labels: Labels): Labels {
    return Object.fromEntries(this.labelNames.map((n) => [n, labels[n] ?? ""]));
  }
}

export class Counter extends Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  inc(labels: Labels = {}, by = 1): void {
    const k = keyOf(this.labelNames, labels);
    const e = this.values.get(k);
    if (e) e.value += by;
    else this.values.set(k, { labels: this.pick(labels), value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(this.labelNames, labels))?.value ?? 0;
  }
  lines(): string[] {
    return [
      ...this.header("counter"),
      ...[...this.values.values()].map((e) => `${this.name}${render(e.labels)} ${e.value}`),
    ];
  }
}

class Gauge extends Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  set(labels: Labels, value: number): void {
    const k = keyOf(this.labelNames, labels);
    const e = this.values.get(k);
    if (e) e.value = value;
    else this.values.set(k, { labels: this.pick(labels), value });
  }
  lines(): string[] {
    return [
      ...this.header("gauge"),
      ...[...this.values.values()].map((e) => `${this.name}${render(e.labels)} ${e.value}`),
    ];
  }
}

class Histogram extends Metric {
  private readonly values = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
  }
  observe(labels: Labels, seconds: number): void {
    const k = keyOf(this.labelNames, labels);
    let e = this.values.get(k);
    if (!e) {
      e = { labels: this.pick(labels), counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.values.set(k, e);
    }
    for (let i = 0; i < this.buckets.length; i++) if (seconds <= this.buckets[i]!) e.counts[i]!++;
    e.sum += seconds;
    e.count++;
  }
  lines(): string[] {
    const out = this.header("histogram");
    for (const e of this.values.values()) {
      this.buckets.forEach((b, i) =>
        out.push(`${this.name}_bucket${render({ ...e.labels, le: String(b) })} ${e.counts[i]}`),
      );
      out.push(`${this.name}_bucket${render({ ...e.labels, le: "+Inf" })} ${e.count}`);
      out.push(`${this.name}_sum${render(e.labels)} ${e.sum}`, `${this.name}_count${render(e.labels)} ${e.count}`);
    }
    return out;
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The gateway's metrics; names are the contract with the alerts (components/observability). */
export class GatewayMetrics {
  readonly requests = new Counter(
    "retrieval_gateway_requests_total",
    "Requests answered, by key name, model, route and status.",
    ["key", "model", "route", "status"],
  );
  readonly inputTokens = new Counter(
    "retrieval_gateway_input_tokens_total",
    "Input tokens, as the engines report them.",
    ["key", "model"],
  );
  readonly documents = new Counter("retrieval_gateway_documents_total", "Rerank documents scored.", ["key", "model"]);
  readonly inputs = new Counter("retrieval_gateway_inputs_total", "Embedding inputs embedded.", ["key", "model"]);
  readonly duration = new Histogram(
    "retrieval_gateway_request_duration_seconds",
    "Time from request to answer at the gateway.",
    ["model", "route"],
    LATENCY_BUCKETS,
  );
  readonly upstreamDuration = new Histogram(
    "retrieval_gateway_upstream_duration_seconds",
    "Time of one engine call.",
    ["model", "upstream"],
    LATENCY_BUCKETS,
  );
  readonly breakerState = new Gauge(
    "retrieval_gateway_breaker_state",
    "Circuit breaker per model: 0 closed, 1 half-open, 2 open.",
    ["model"],
  );
  readonly quotaRejections = new Counter(
    "retrieval_gateway_quota_rejections_total",
    "Requests refused by a limit (quota = rate|tokens|documents).",
    ["key", "model", "quota"],
  );
  readonly redisUp = new Gauge(
    "retrieval_gateway_redis_up",
    "1 when the last limit check reached Redis, 0 when it failed.",
    [],
  );
  readonly failOpen = new Counter(
    "retrieval_gateway_limit_fail_open_total",
    "Requests judged by this replica's in-memory limits (rate / replicas) because the limit store was down (onDown: fail-open).",
    [],
  );
  readonly limitStoreFallback = new Gauge(
    "retrieval_gateway_limit_store_fallback",
    "1 while this replica limits from memory because the limit store is unreachable (fail-open), else 0.",
    [],
  );
  readonly keysReloadFailures = new Counter(
    "retrieval_gateway_keys_reload_failures_total",
    "Key file updates refused as malformed (the last good key set stays in force).",
    [],
  );
  readonly keysLoaded = new Gauge(
    "retrieval_gateway_keys_loaded",
    "Keys in force, and the Unix time of the last successful (re)load (what = count|timestamp).",
    ["what"],
  );
  readonly waiting = new Gauge(
    "retrieval_gateway_waiting_requests",
    "Requests held because the model has no ready pod (a wake trigger of its ScaledObject).",
    ["model"],
  );
  readonly readyPods = new Gauge(
    "retrieval_gateway_ready_pods",
    "Ready pods of each model as discovered from its EndpointSlices (-1: discovery unavailable, the Service is used).",
    ["model"],
  );
  readonly discoveredProxies = new Gauge(
    "retrieval_gateway_discovered_proxies",
    "Ingress controller pod addresses trusted for X-Forwarded-For, from its EndpointSlices (-1: discovery unavailable, only trustedProxies CIDRs are trusted).",
    [],
  );
  readonly queued = new Gauge(
    "retrieval_gateway_admission_queued_requests",
    "Requests queued fairly between keys because the model's pods have as many in flight as they batch well.",
    ["model"],
  );
  readonly cache = new Counter("retrieval_gateway_rerank_cache_total", "Rerank cache lookups (result = hit|miss).", [
    "model",
    "result",
  ]);
  readonly inFlight = new Gauge(
    "retrieval_gateway_in_flight_requests",
    "Requests being handled now (autoscaling signal).",
    [],
  );

  readonly upstreamInvalid = new Counter(
    "retrieval_gateway_upstream_invalid_total",
    "Engine answers refused before serving (502 upstream_invalid), by model and reason.",
    ["model", "reason"],
  );
  readonly authFailures = new Counter(
    "retrieval_gateway_auth_failures_total",
    "Requests refused for a missing or invalid key or token (throttled = the client was over its failure budget).",
    ["throttled"],
  );
  readonly refused = new Counter(
    "retrieval_gateway_refused_total",
    "Requests and connections refused to protect the instance (reason = overloaded|connections).",
    ["reason"],
  );
  readonly bufferedBytes = new Gauge(
    "retrieval_gateway_buffered_bytes",
    "Request and answer bytes this instance holds now (bounded by maxBytesInFlight).",
    [],
  );
  readonly eventLoopDelay = new Gauge(
    "retrieval_gateway_event_loop_delay_max_seconds",
    "Longest event-loop delay since the previous scrape.",
    [],
  );
  /** Shadow traffic (shadow.ts): copies by outcome, compared copies, and each agreement measure summed. */
  readonly shadowCalls = new Counter(
    "retrieval_gateway_shadow_calls_total",
    "Rerank calls copied to an alias' shadow model, by outcome (compared|busy|timeout|failed|cut_off: still running at the end of a shutdown's drain).",
    ["alias", "shadow", "outcome"],
  );
  readonly shadowCompared = new Counter(
    "retrieval_gateway_shadow_compared_total",
    "Shadow copies whose ranking was compared with the primary's.",
    ["alias", "shadow"],
  );
  readonly shadowAgreement = new Counter(
    "retrieval_gateway_shadow_agreement_sum",
    "Sum over compared copies of an agreement measure of the shadow's order with the primary's (measure = kendall_tau|top1|top3|top10|ndcg_at_10); divide by retrieval_gateway_shadow_compared_total.",
    ["alias", "shadow", "measure"],
  );

  private readonly all = [
    this.requests,
    this.inputTokens,
    this.documents,
    this.inputs,
    this.duration,
    this.upstreamDuration,
    this.breakerState,
    this.quotaRejections,
    this.redisUp,
    this.failOpen,
    this.limitStoreFallback,
    this.keysReloadFailures,
    this.keysLoaded,
    this.waiting,
    this.readyPods,
    this.discoveredProxies,
    this.queued,
    this.cache,
    this.inFlight,
    this.upstreamInvalid,
    this.authFailures,
    this.refused,
    this.bufferedBytes,
    this.eventLoopDelay,
    this.shadowCalls,
    this.shadowCompared,
    this.shadowAgreement,
  ];

  text(): string {
    return `${this.all.flatMap((m) => m.lines()).join("\n")}\n`;
  }
}
