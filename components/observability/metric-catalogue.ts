/**
 * Every metric name a dashboard panel or an alert may use, in one place. Engine metrics come only from the
 * adapters' `metricNames` (components/serving/engines); the rest are exporters we install or scrape. A test
 * checks every rendered query against these lists, so a renamed metric fails CI instead of showing "no data".
 */
import { ENGINE_ADAPTERS } from "../serving/engines";
import { CANARY_METRIC_NAMES } from "../contracts/canary";
import { DCGM_COUNTERS } from "../gpu/dcgm";

/**
 * The dcgm-exporter fields the GPU runtime configures the exporter to collect (components/gpu/dcgm.ts): a query may
 * read only these. FB_* are MiB, GPU_UTIL is 0-100, XID_ERRORS is the code of the last Xid (0 = none), POWER_USAGE
 * is W, DCGM_EXP_XID_ERRORS_COUNT the Xids within the exporter's window.
 */
export const DCGM_METRICS: readonly string[] = DCGM_COUNTERS.map((c) => c.field);

/** kube-state-metrics v2 series (kubernetes/kube-state-metrics docs/metrics, read 2026-11). */
const KUBE_STATE_METRICS = [
  "kube_pod_labels",
  "kube_pod_status_ready",
  "kube_pod_status_phase",
  "kube_pod_container_status_restarts_total",
  "kube_pod_container_resource_requests",
  "kube_pod_container_resource_limits",
  "kube_node_labels",
  "kube_horizontalpodautoscaler_status_desired_replicas",
  "kube_horizontalpodautoscaler_status_current_replicas",
  "kube_horizontalpodautoscaler_spec_max_replicas",
  "kube_horizontalpodautoscaler_spec_min_replicas",
] as const;

/**
 * F5 NGINX Ingress Controller, open-source edition (the ingress component's controller): NGINX stub_status
 * counters under the `nginx_ingress_nginx_` prefix (docs.nginx.com/nginx-ingress-controller/logging-and-monitoring/
 * prometheus, read 2026-11), and, with -enable-latency-metrics, the per-upstream latency histogram with the
 * upstream's status code, whose `_count` the ingress error ratio reads (nginx/kubernetes-ingress
 * internal/metrics/collectors/latency.go, read 2026-11; components/ingress/nginx-ingress/metrics.ts).
 */
const NGINX_CONTROLLER_METRICS = [
  "nginx_ingress_nginx_http_requests_total",
  "nginx_ingress_nginx_connections_active",
  "nginx_ingress_controller_upstream_server_response_latency_ms_count",
] as const;

/**
 * cAdvisor series from the kubelet, scraped by kube-prometheus-stack's kubelet ServiceMonitor (cAdvisor: true;
 * google/cadvisor docs/storage/prometheus.md; the chart's own k8s.rules.container_* rules read the same names).
 */
const CADVISOR_METRICS = ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"] as const;

/**
 * The API gateway's series (components/gateway, issue 11): requests{key,model,route,status}, breaker_state{model}
 * (0 closed, 1 half-open, 2 open), quota_rejections_total{key,model,quota}, redis_up (1/0), limit_fail_open_total.
 */
/** The gateway's answers counter: labels key, model (the name the client asked for), route, status. */
export const GATEWAY_REQUESTS = "retrieval_gateway_requests_total";

export const GATEWAY_METRICS = [
  GATEWAY_REQUESTS,
  "retrieval_gateway_breaker_state",
  "retrieval_gateway_quota_rejections_total",
  "retrieval_gateway_redis_up",
  "retrieval_gateway_limit_fail_open_total",
  // Shadow traffic (images/gateway/src/shadow.ts; docs/model-changes.md).
  "retrieval_gateway_shadow_calls_total",
  "retrieval_gateway_shadow_compared_total",
  "retrieval_gateway_shadow_agreement_sum",
  "retrieval_gateway_limit_store_fallback",
  "retrieval_gateway_keys_reload_failures_total",
  "retrieval_gateway_waiting_requests",
  // Engine answers refused before serving (reason), failed authentications (throttled): GatewayUpstreamInvalid,
  // GatewayAuthThrottled.
  "retrieval_gateway_upstream_invalid_total",
  "retrieval_gateway_auth_failures_total",
  // -1 while EndpointSlice discovery is unavailable: GatewayDiscoveryUnavailable.
  "retrieval_gateway_ready_pods",
  "retrieval_gateway_discovered_proxies",
] as const;

/** Series every Prometheus writes itself. */
const PROMETHEUS_BUILTIN_METRICS = ["up", "ALERTS"] as const;

/** Metric names that every adapter declares, for every engine. */
function engineMetricNames(): Set<string> {
  return new Set(Object.values(ENGINE_ADAPTERS).flatMap((a) => a.metrics.metricNames));
}

/** The allow-list a panel or alert query is checked against. */
export function knownMetricNames(): Set<string> {
  return new Set<string>([
    ...engineMetricNames(),
    ...DCGM_METRICS,
    ...KUBE_STATE_METRICS,
    ...NGINX_CONTROLLER_METRICS,
    ...CADVISOR_METRICS,
    ...GATEWAY_METRICS,
    ...CANARY_METRIC_NAMES,
    ...PROMETHEUS_BUILTIN_METRICS,
  ]);
}

const PROMQL_WORDS = new Set([
  "sum",
  "avg",
  "min",
  "max",
  "count",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "rate",
  "irate",
  "increase",
  "histogram_quantile",
  "absent",
  "absent_over_time",
  "avg_over_time",
  "max_over_time",
  "min_over_time",
  "clamp_min",
  "clamp_max",
  "vector",
  "scalar",
  "label_replace",
  "le",
  "bool",
  "offset",
  "topk",
  "time",
  "hour",
]);

/**
 * Metric names a PromQL expression reads: identifiers followed by `{` or standing alone as a selector, minus
 * functions, keywords, label names inside braces and string literals. `{__name__=~"a|b"}` yields a and b.
 */
export function metricNamesIn(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/__name__\s*=~?\s*"([^"]*)"/g))
    for (const n of (m[1] ?? "").split("|")) if (n) names.add(n.replace(/\\/g, ""));
  // Drop string literals, label matchers inside braces, grouping clauses and range/durations.
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, "[]");
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice((m.index ?? 0) + word.length).trimStart();
    if (after.startsWith("(")) continue; // a function call
    if (PROMQL_WORDS.has(word)) continue;
    if (/^[0-9]/.test(word)) continue;
    if (/^(e|inf|nan|Inf|NaN)$/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}
