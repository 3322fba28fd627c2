/**
 * `promtool test rules` cases for seed 003's alerts (mean latency, low traffic, CPU and memory) and the gateway's.
 * Rules from the component's builder: a CPU-served model (cpu1) next to a GPU model (alpha), low traffic enabled
 * for 00:00-01:00 UTC (promtool's clock starts at 1970-01-01 00:00 UTC), the gateway group on, and the quality
 * canary's alerts with their defaults (interval 300 s, MRR@10 threshold 0.75, 15m).
 */
import { AlertThresholdsSchema, CanarySchema, ModelConfigSchema } from "../../components/config";
import { buildRuleGroups, type RuleGroup } from "../../components/observability/alert-rules";
import { engine, none, pod, series, type TestCase } from "./cases";
import { ALPHA, NS, RUNBOOK, testAdapterFor } from "./fixtures";

export const CPU1 = ModelConfigSchema.parse({
  name: "cpu1",
  model: "BAAI/bge-small-en-v1.5",
  engine: "vllm",
  task: "embed",
  replicas: { min: 1, max: 2 },
  slo: { p99LatencyMs: 300 },
});

/** A reranker with a 2 s p99 objective (may scale to zero, so it stays silent where it has no pods). */
export const SLOW = ModelConfigSchema.parse({
  name: "slow",
  model: "BAAI/bge-reranker-v2-m3",
  engine: "vllm",
  task: "rerank",
  replicas: { min: 0, max: 1 },
  gpu: { nodeGroup: "l4" },
  slo: { p99LatencyMs: 2000 },
});

export function seedRuleGroups(): RuleGroup[] {
  return buildRuleGroups({
    models: [CPU1, ALPHA, SLOW],
    thresholds: AlertThresholdsSchema.parse({ lowTraffic: { enabled: true, utcHours: { start: 0, end: 1 } } }),
    runbookBaseUrl: RUNBOOK,
    modelsNamespace: NS,
    adapterFor: testAdapterFor,
    gateway: { enabled: true },
    canary: CanarySchema.parse({}),
  });
}

const runbook = (alert: string) => `${RUNBOOK}#${alert.toLowerCase()}`;
const model = (name: string, severity = "warning") => ({ severity, model: name, namespace: NS, engine: "vllm" });
/** A cAdvisor series as the kubelet ServiceMonitor stores it. */
const cadvisor = (name: string, podName: string, values: string) =>
  series(
    name,
    { namespace: NS, pod: podName, container: "engine", image: "vllm/vllm-openai", metrics_path: "/metrics/cadvisor" },
    values,
  );
const ksm = (name: string, podName: string, resource: string, values: string) =>
  series(name, { namespace: NS, pod: podName, container: "engine", resource }, values);
const gateway = (name: string, labels: Record<string, string>, values: string) =>
  series(name, { pod: "gateway-0", ...labels }, values);

const canary = (name: string, labels: Record<string, string>, values: string) =>
  series(name, { namespace: "monitoring", pod: "quality-canary-0", ...labels }, values);

export const SEED_CASES: TestCase[] = [
  {
    name: "ModelQualityLow: MRR@10 0.5 for 15 minutes fires and names the set; 0.9 does not",
    interval: "1m",
    input_series: [
      canary("retrieval_stack_canary_mrr_at_10", { model: "cpu1", set: "bundled" }, "0.5x30"),
      canary("retrieval_stack_canary_mrr_at_10", { model: "alpha", set: "bundled" }, "0.9x30"),
      canary("retrieval_stack_canary_mrr_at_10", { model: "alpha", set: "user" }, "0.8x30"),
    ],
    alert_rule_test: [
      { eval_time: "10m", alertname: "ModelQualityLow", exp_alerts: none },
      {
        eval_time: "20m",
        alertname: "ModelQualityLow",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelQualityLow", ...model("cpu1"), set: "bundled" },
            exp_annotations: {
              summary: "Model cpu1 ranks worse: MRR@10 0.500 on the bundled set",
              description:
                "The quality canary measured MRR@10 0.500 for model cpu1 (vllm, embed) on the bundled labelled set, below its threshold 0.75, for 15m: it returns worse results than it should (wrong weights or revision, a broken template, truncation).",
              runbook_url: runbook("ModelQualityLow"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "CanaryCheckFailing: a check failing on every run fires and names the check; passing checks do not",
    interval: "1m",
    input_series: [
      canary("retrieval_stack_canary_check_success", { model: "cpu1", check: "sanity" }, "0x30"),
      canary("retrieval_stack_canary_check_success", { model: "cpu1", check: "health" }, "1x30"),
      canary("retrieval_stack_canary_check_success", { model: "alpha", check: "sanity" }, "1x30"),
    ],
    alert_rule_test: [
      {
        eval_time: "20m",
        alertname: "CanaryCheckFailing",
        exp_alerts: [
          {
            exp_labels: { alertname: "CanaryCheckFailing", ...model("cpu1"), check: "sanity" },
            exp_annotations: {
              summary: "Canary check sanity fails for model cpu1",
              description:
                "The quality canary's check sanity has failed for model cpu1 (vllm) on every run for 15m; the canary's log names what came back.",
              runbook_url: runbook("CanaryCheckFailing"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelFingerprintDrift: a model whose probe answers drifted for 15m fires; a matching one does not",
    interval: "1m",
    input_series: [
      canary("retrieval_stack_canary_fingerprint_match", { model: "cpu1" }, "1 1 0x30"),
      canary("retrieval_stack_canary_fingerprint_match", { model: "alpha" }, "1x32"),
    ],
    alert_rule_test: [
      { eval_time: "10m", alertname: "ModelFingerprintDrift", exp_alerts: none },
      {
        eval_time: "25m",
        alertname: "ModelFingerprintDrift",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelFingerprintDrift", ...model("cpu1", "critical") },
            exp_annotations: {
              summary: "Model cpu1 answers differently from its recorded fingerprint",
              description:
                "The quality canary found model cpu1's answers to the fixed probes outside the tolerance of the fingerprint recorded at deploy time for 15m (drift: retrieval_stack_canary_fingerprint_drift): vectors or scores changed under the same config (an engine image re-pulled, an unpinned revision, other hardware). Indexes built with the old vectors now return worse results; the canary's log names the probes and numbers (docs/model-changes.md).",
              runbook_url: runbook("ModelFingerprintDrift"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "CanaryStale: runs that stop fire after 3 intervals; a canary that keeps running does not",
    interval: "1m",
    input_series: [
      // The canary writes the Unix time of its last run: promtool's clock starts at 0.
      canary("retrieval_stack_canary_last_run_timestamp_seconds", { model: "cpu1" }, "0+60x5"),
      canary("retrieval_stack_canary_last_run_timestamp_seconds", { model: "alpha" }, "0+60x40"),
      canary("retrieval_stack_canary_last_run_timestamp_seconds", { model: "slow" }, "0+60x40"),
    ],
    alert_rule_test: [
      { eval_time: "8m", alertname: "CanaryStale", exp_alerts: none },
      {
        eval_time: "30m",
        alertname: "CanaryStale",
        exp_alerts: [
          {
            exp_labels: { alertname: "CanaryStale", ...model("cpu1") },
            exp_annotations: {
              summary: "No canary run for model cpu1 in 900 s",
              description:
                "The quality canary has not finished a run for model cpu1 for more than 3 intervals (900 s): quality is not being measured (canary pod down, stuck or not scraped).",
              runbook_url: runbook("CanaryStale"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceHighMeanLatency: each model against its own SLO: 200 ms mean fires for a 300 ms-p99 embedder (objective 150 ms), 800 ms does not for a 2 s-p99 reranker (objective 1 s), 100 ms does not",
    interval: "1m",
    input_series: [
      engine("test_request_duration_seconds_sum", "cpu1", "0+2x30"),
      engine("test_request_duration_seconds_count", "cpu1", "0+10x30"),
      engine("test_request_duration_seconds_sum", "alpha", "0+1x30"),
      engine("test_request_duration_seconds_count", "alpha", "0+10x30"),
      engine("test_request_duration_seconds_sum", "slow", "0+8x30"),
      engine("test_request_duration_seconds_count", "slow", "0+10x30"),
    ],
    alert_rule_test: [
      { eval_time: "5m", alertname: "ModelServiceHighMeanLatency", exp_alerts: none },
      {
        eval_time: "20m",
        alertname: "ModelServiceHighMeanLatency",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceHighMeanLatency", ...model("cpu1") },
            exp_annotations: {
              summary: "Model cpu1 mean latency 200ms is above 150 ms",
              description:
                "Model cpu1 (vllm) answered in 200ms on average over 5m, above 150 ms (0.5 x the 300 ms p99 SLO), for 10m.",
              runbook_url: runbook("ModelServiceHighMeanLatency"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceLowTraffic: 1 request/s fires inside the UTC window, not outside it; 20 requests/s do not",
    interval: "1m",
    input_series: [
      ...pod("cpu1", "cpu1-0", 1, 90),
      ...pod("alpha", "alpha-0", 1, 90),
      engine("test_requests_total", "cpu1", "0+60x90"),
      engine("test_requests_total", "alpha", "0+1200x90"),
    ],
    alert_rule_test: [
      {
        eval_time: "20m",
        alertname: "ModelServiceLowTraffic",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceLowTraffic", ...model("cpu1") },
            exp_annotations: {
              summary: "Model cpu1 gets 1.00 requests/s",
              description:
                "Model cpu1 (vllm) has served 1.00 requests per second over 5m, below observability.alerts.lowTraffic.value (10), for 15m while it runs between 0:00 and 1:00 UTC: clients may not reach it.",
              runbook_url: runbook("ModelServiceLowTraffic"),
            },
          },
        ],
      },
      // 01:10 UTC: outside the window.
      { eval_time: "70m", alertname: "ModelServiceLowTraffic", exp_alerts: none },
    ],
  },
  {
    name: "ModelServiceLowTraffic: a model without a ready pod is not 'low traffic' (ModelServiceDown speaks)",
    interval: "1m",
    input_series: [...pod("cpu1", "cpu1-0", 0, 40), ...pod("alpha", "alpha-0", 0, 40)],
    alert_rule_test: [{ eval_time: "30m", alertname: "ModelServiceLowTraffic", exp_alerts: none }],
  },
  {
    name: "ModelServiceCpuSaturated: a CPU model at 90% of its CPU request fires; a GPU model is not watched",
    interval: "1m",
    input_series: [
      ...pod("cpu1", "cpu1-0", 1),
      ...pod("alpha", "alpha-0", 1),
      cadvisor("container_cpu_usage_seconds_total", "cpu1-0", "0+54x40"),
      ksm("kube_pod_container_resource_requests", "cpu1-0", "cpu", "1x40"),
      cadvisor("container_cpu_usage_seconds_total", "alpha-0", "0+120x40"),
      ksm("kube_pod_container_resource_requests", "alpha-0", "cpu", "1x40"),
    ],
    alert_rule_test: [
      { eval_time: "4m", alertname: "ModelServiceCpuSaturated", exp_alerts: none },
      {
        eval_time: "15m",
        alertname: "ModelServiceCpuSaturated",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceCpuSaturated", ...model("cpu1") },
            exp_annotations: {
              summary: "Model cpu1 uses 90% of its CPU request",
              description:
                "Model cpu1 (vllm, CPU-served) has used 90% of the CPU its pods request (threshold 85%) for 5m: requests queue behind the tokenizer and the model; add replicas or raise models[].resources.cpu.",
              runbook_url: runbook("ModelServiceCpuSaturated"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceCpuSaturated: 50% of the request does not fire",
    interval: "1m",
    input_series: [
      ...pod("cpu1", "cpu1-0", 1),
      cadvisor("container_cpu_usage_seconds_total", "cpu1-0", "0+30x40"),
      ksm("kube_pod_container_resource_requests", "cpu1-0", "cpu", "1x40"),
    ],
    alert_rule_test: [{ eval_time: "30m", alertname: "ModelServiceCpuSaturated", exp_alerts: none }],
  },
  {
    name: "ModelServiceMemoryNearLimit: 95% of the limit fires and names pod and container; 50% does not",
    interval: "1m",
    input_series: [
      ...pod("cpu1", "cpu1-0", 1),
      ...pod("alpha", "alpha-0", 1),
      cadvisor("container_memory_working_set_bytes", "cpu1-0", "950000000x40"),
      ksm("kube_pod_container_resource_limits", "cpu1-0", "memory", "1000000000x40"),
      cadvisor("container_memory_working_set_bytes", "alpha-0", "500000000x40"),
      ksm("kube_pod_container_resource_limits", "alpha-0", "memory", "1000000000x40"),
    ],
    alert_rule_test: [
      { eval_time: "3m", alertname: "ModelServiceMemoryNearLimit", exp_alerts: none },
      {
        eval_time: "10m",
        alertname: "ModelServiceMemoryNearLimit",
        exp_alerts: [
          {
            exp_labels: {
              alertname: "ModelServiceMemoryNearLimit",
              ...model("cpu1"),
              pod: "cpu1-0",
              container: "engine",
            },
            exp_annotations: {
              summary: "Container engine of pod cpu1-0 (model cpu1) uses 95% of its memory limit",
              description:
                "Container engine of pod cpu1-0 of model cpu1 (vllm) has used 95% of its memory limit (threshold 90%) for 5m: the kernel kills it (OOMKilled) at 100%.",
              runbook_url: runbook("ModelServiceMemoryNearLimit"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GatewayHighErrorRate: 10% 5xx for one key and model fires for that pair only; 1% does not, nor a quiet key whose every call (1/min) fails",
    interval: "1m",
    input_series: [
      gateway(
        "retrieval_gateway_requests_total",
        { key: "acme", model: "alpha", route: "embed", status: "200" },
        "0+90x30",
      ),
      gateway(
        "retrieval_gateway_requests_total",
        { key: "acme", model: "alpha", route: "embed", status: "503" },
        "0+10x30",
      ),
      gateway(
        "retrieval_gateway_requests_total",
        { key: "acme", model: "cpu1", route: "embed", status: "200" },
        "0+100x30",
      ),
      gateway(
        "retrieval_gateway_requests_total",
        { key: "zeta", model: "alpha", route: "embed", status: "200" },
        "0+99x30",
      ),
      gateway(
        "retrieval_gateway_requests_total",
        { key: "zeta", model: "alpha", route: "embed", status: "502" },
        "0+1x30",
      ),
      gateway(
        "retrieval_gateway_requests_total",
        { key: "zeta", model: "alpha", route: "embed", status: "429" },
        "0+50x30",
      ),
      // A quiet key: one call a minute, every one a 504. 100% of almost nothing is not worth a page.
      gateway(
        "retrieval_gateway_requests_total",
        { key: "quiet", model: "alpha", route: "embed", status: "504" },
        "0+1x30",
      ),
    ],
    alert_rule_test: [
      {
        eval_time: "15m",
        alertname: "GatewayHighErrorRate",
        exp_alerts: [
          {
            exp_labels: { alertname: "GatewayHighErrorRate", severity: "critical", key: "acme", model: "alpha" },
            exp_annotations: {
              summary: "Gateway answers 10% of key acme's requests to alpha with 5xx",
              description:
                "The gateway answered 10% of API key acme's requests to model alpha with a server error over 5m (threshold 5%, counted from 0.1 requests/s) for 5m.",
              runbook_url: runbook("GatewayHighErrorRate"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GatewayCircuitBreakerOpen: open (2) fires; half-open (1) does not",
    interval: "1m",
    input_series: [
      gateway("retrieval_gateway_breaker_state", { model: "alpha" }, "0 0 2x20"),
      gateway("retrieval_gateway_breaker_state", { model: "cpu1" }, "1x22"),
    ],
    alert_rule_test: [
      { eval_time: "3m", alertname: "GatewayCircuitBreakerOpen", exp_alerts: none },
      {
        eval_time: "10m",
        alertname: "GatewayCircuitBreakerOpen",
        exp_alerts: [
          {
            exp_labels: { alertname: "GatewayCircuitBreakerOpen", severity: "critical", model: "alpha" },
            exp_annotations: {
              summary: "Gateway circuit breaker for model alpha is open",
              description:
                "The gateway's circuit breaker for model alpha has been open for 2m: it refuses the model's requests at once (503) because the model kept failing.",
              runbook_url: runbook("GatewayCircuitBreakerOpen"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GatewayQuotaExhausted: a key refused for 10 minutes fires; a key with no rejections does not",
    interval: "1m",
    input_series: [
      gateway("retrieval_gateway_quota_rejections_total", { key: "acme", model: "alpha", quota: "tokens" }, "0+6x30"),
      gateway("retrieval_gateway_quota_rejections_total", { key: "zeta", model: "alpha", quota: "tokens" }, "3x30"),
    ],
    alert_rule_test: [
      {
        eval_time: "20m",
        alertname: "GatewayQuotaExhausted",
        exp_alerts: [
          {
            exp_labels: {
              alertname: "GatewayQuotaExhausted",
              severity: "warning",
              key: "acme",
              model: "alpha",
              quota: "tokens",
            },
            exp_annotations: {
              summary: "API key acme is over its tokens quota for alpha",
              description:
                "The gateway has refused API key acme's requests to model alpha over its tokens quota (0.10/s) for 10m.",
              runbook_url: runbook("GatewayQuotaExhausted"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GatewayRedisDown: redis_up 0 fires; limits failing open fire; both fine is silent",
    interval: "1m",
    input_series: [gateway("retrieval_gateway_redis_up", {}, "1x3 0x20")],
    alert_rule_test: [
      { eval_time: "3m", alertname: "GatewayRedisDown", exp_alerts: none },
      {
        eval_time: "10m",
        alertname: "GatewayRedisDown",
        exp_alerts: [
          {
            exp_labels: { alertname: "GatewayRedisDown", severity: "critical" },
            exp_annotations: {
              summary:
                "Gateway limit store unreachable: every replica limits from its own memory at its share of each key's limits",
              description:
                "For 2m a gateway replica has not reached its limit store (retrieval_gateway_redis_up 0) or has judged requests by its in-memory limits (retrieval_gateway_limit_fail_open_total rising). With redis.onDown fail-open (the default) each replica now enforces every key's rate and daily quotas alone, at the configured values divided by the configured gateway replicas, counting only the traffic it sees itself: a key may exceed its limits by the factor KEDA scaled the gateway beyond its configured replicas, and usage counted before the outage is not seen. With fail-closed every limited request is answered 503.",
              runbook_url: runbook("GatewayRedisDown"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GatewayRedisDown: fail-open requests while redis_up says 1 fire; a flat fail-open counter does not",
    interval: "1m",
    input_series: [
      gateway("retrieval_gateway_redis_up", {}, "1x40"),
      gateway("retrieval_gateway_limit_fail_open_total", {}, "5x10 5+3x20"),
    ],
    alert_rule_test: [
      { eval_time: "9m", alertname: "GatewayRedisDown", exp_alerts: none },
      {
        eval_time: "20m",
        alertname: "GatewayRedisDown",
        exp_alerts: [
          {
            exp_labels: { alertname: "GatewayRedisDown", severity: "critical" },
            exp_annotations: {
              summary:
                "Gateway limit store unreachable: every replica limits from its own memory at its share of each key's limits",
              description:
                "For 2m a gateway replica has not reached its limit store (retrieval_gateway_redis_up 0) or has judged requests by its in-memory limits (retrieval_gateway_limit_fail_open_total rising). With redis.onDown fail-open (the default) each replica now enforces every key's rate and daily quotas alone, at the configured values divided by the configured gateway replicas, counting only the traffic it sees itself: a key may exceed its limits by the factor KEDA scaled the gateway beyond its configured replicas, and usage counted before the outage is not seen. With fail-closed every limited request is answered 503.",
              runbook_url: runbook("GatewayRedisDown"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GatewayKeysReloadFailed: a refused key update fires; a flat failure counter is silent",
    interval: "1m",
    input_series: [gateway("retrieval_gateway_keys_reload_failures_total", {}, "0x10 1x30")],
    alert_rule_test: [
      { eval_time: "8m", alertname: "GatewayKeysReloadFailed", exp_alerts: none },
      {
        eval_time: "12m",
        alertname: "GatewayKeysReloadFailed",
        exp_alerts: [
          {
            exp_labels: { alertname: "GatewayKeysReloadFailed", severity: "warning" },
            exp_annotations: {
              summary: "Gateway refused a key update: the last good keys stay in force",
              description:
                "A gateway replica read a changed key Secret that is not a valid key list and kept its last good keys: keys added since are refused (401) and keys revoked since still work, until the Secret is fixed.",
              runbook_url: runbook("GatewayKeysReloadFailed"),
            },
          },
        ],
      },
      { eval_time: "35m", alertname: "GatewayKeysReloadFailed", exp_alerts: none },
    ],
  },
];
