import type { AlertThresholds, EngineName, ModelConfig } from "../../components/config";
import { AlertThresholdsSchema, ModelConfigSchema } from "../../components/config";
import type { EngineAdapter, EngineMetrics } from "../../components/serving/engines";
import { adapterFor } from "../../components/serving/engines";
import { histogramMean, histogramP99, sumGauge, sumRate } from "../../components/serving/engines/promql";
import { buildRuleGroups, type RuleGroup } from "../../components/observability/alert-rules";

/**
 * A stand-in engine with plain metric names, so the alert unit tests read like the alert logic they prove and do
 * not break when an adapter's metric names change (each adapter has its own checks in alerts-adapters.test.ts).
 * Built with the same PromQL helpers the real adapters use.
 */
export const TEST_METRICS: EngineMetrics = {
  path: "/metrics",
  port: 8000,
  modelLabel: undefined,
  metricNames: [
    "test_queue_size",
    "test_running",
    "test_request_duration_seconds_bucket",
    "test_request_duration_seconds_sum",
    "test_request_duration_seconds_count",
    "test_requests_total",
    "test_request_failures_total",
  ],
  queueDepth: (s) => sumGauge("test_queue_size", s),
  inFlight: (s) => sumGauge("test_running", s),
  latencyP99: (s, w) => histogramP99("test_request_duration_seconds", s, w),
  latencyMean: (s, w) => histogramMean("test_request_duration_seconds", s, w),
  requestRate: (s, w) => sumRate("test_requests_total", s, w),
  errorRatio: (s, w) => `${sumRate("test_request_failures_total", s, w)} / ${sumRate("test_requests_total", s, w)}`,
};

export const testAdapterFor = (engine: EngineName): EngineAdapter => ({ ...adapterFor(engine), metrics: TEST_METRICS });

export const RUNBOOK = "https://runbooks.example.invalid/runbooks.md";
export const NS = "retrieval";

const model = (m: Record<string, unknown>): ModelConfig => ModelConfigSchema.parse(m);

/** alpha: always-on (2..4) on node group l4; beta: may scale to zero (0..2), also on l4. */
export const ALPHA = model({
  name: "alpha",
  model: "BAAI/bge-large-zh-v1.5",
  engine: "vllm",
  task: "embed",
  replicas: { min: 2, max: 4 },
  gpu: { nodeGroup: "l4" },
  slo: { p99LatencyMs: 300 },
});
export const BETA = model({
  name: "beta",
  model: "BAAI/bge-reranker-v2-m3",
  engine: "vllm",
  task: "rerank",
  replicas: { min: 0, max: 2 },
  gpu: { nodeGroup: "l4" },
  slo: { p99LatencyMs: 1000 },
});
/** gamma: TEI on node group l40s, may scale to zero: an engine that allocates GPU memory as it goes. */
export const GAMMA = model({
  name: "gamma",
  model: "BAAI/bge-base-en-v1.5",
  engine: "tei",
  task: "embed",
  replicas: { min: 0, max: 1 },
  gpu: { nodeGroup: "l40s" },
  slo: { p99LatencyMs: 200 },
});
export const THRESHOLDS: AlertThresholds = AlertThresholdsSchema.parse({});

export function testRuleGroups(runbookBaseUrl = RUNBOOK): RuleGroup[] {
  return buildRuleGroups({
    models: [ALPHA, BETA, GAMMA],
    thresholds: THRESHOLDS,
    runbookBaseUrl,
    modelsNamespace: NS,
    adapterFor: testAdapterFor,
  });
}
