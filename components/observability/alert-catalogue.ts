import type { Severity } from "../config";

/**
 * Every alert we ship, with the facts the one pass in alert-rules.ts adds to each rule draft: its severity, its
 * scope, what it means. docs/runbooks.md has one section per name.
 */
export const ALERT_CATALOGUE = {
  ModelServiceDown: { severity: "critical", scope: "model", meaning: "no ready replica" },
  ModelServiceHighErrorRate: {
    severity: "critical",
    scope: "model",
    meaning: "share of failed requests above threshold",
  },
  ModelServiceHighLatencyP99: { severity: "warning", scope: "model", meaning: "p99 latency above the model's SLO" },
  ModelServiceQueueBacklog: { severity: "warning", scope: "model", meaning: "requests waiting above threshold" },
  ModelServiceAtMaxReplicas: { severity: "warning", scope: "model", meaning: "ready replicas at replicas.max" },
  ModelServicePodRestarting: { severity: "warning", scope: "model", meaning: "container restarts within 15 minutes" },
  ModelMetricsMissing: { severity: "warning", scope: "model", meaning: "none of the engine's metrics for the model" },
  ModelServiceHighMeanLatency: { severity: "warning", scope: "model", meaning: "mean latency above threshold" },
  ModelServiceLowTraffic: { severity: "warning", scope: "model", meaning: "requests per second below threshold" },
  ModelServiceCpuSaturated: {
    severity: "warning",
    scope: "model",
    meaning: "CPU used / requested of a CPU-served model above threshold",
  },
  ModelServiceMemoryNearLimit: {
    severity: "warning",
    scope: "model pod",
    meaning: "working-set memory / memory limit above threshold (OOM risk)",
  },
  GatewayHighErrorRate: {
    severity: "critical",
    scope: "API key and model",
    meaning: "share of 5xx answers of the gateway above threshold",
  },
  GatewayCircuitBreakerOpen: { severity: "critical", scope: "model", meaning: "the gateway's breaker is open" },
  GatewayQuotaExhausted: { severity: "warning", scope: "API key", meaning: "the gateway keeps refusing over quota" },
  GatewayRedisDown: {
    severity: "critical",
    scope: "gateway",
    meaning: "limit store unreachable: each replica limits alone from memory (fail-open) or refuses (fail-closed)",
  },
  GatewayKeysReloadFailed: {
    severity: "warning",
    scope: "gateway",
    meaning: "a key Secret update was malformed: the last good keys stay in force",
  },
  GatewayUpstreamInvalid: {
    severity: "warning",
    scope: "model and reason",
    meaning: "an engine's answers are refused as wrong (502 upstream_invalid): count, dims, NaN, indices, shape, size",
  },
  GatewayAuthThrottled: {
    severity: "warning",
    scope: "gateway",
    meaning: "failed-auth throttling is refusing a client address: someone is guessing keys (or a client lost its key)",
  },
  GatewayDiscoveryUnavailable: {
    severity: "warning",
    scope: "gateway",
    meaning:
      "the gateway cannot read EndpointSlices: routing through Services, X-Forwarded-For trusted from trustedProxies only",
  },
  ModelQualityLow: { severity: "warning", scope: "model", meaning: "canary MRR@10 below the model's threshold" },
  CanaryCheckFailing: { severity: "warning", scope: "model", meaning: "a canary check of the model fails" },
  ModelFingerprintDrift: {
    severity: "critical",
    scope: "model",
    meaning: "the model's answers to the fingerprint probes drifted from the recorded ones",
  },
  CanaryStale: { severity: "warning", scope: "model", meaning: "no canary run for 3 intervals" },
  GpuMemoryPressure: { severity: "warning", scope: "gpu", meaning: "framebuffer used / total above threshold" },
  GpuHighUtilization: { severity: "warning", scope: "gpu", meaning: "GPU utilisation above threshold, sustained" },
  GpuXidErrors: { severity: "warning", scope: "gpu", meaning: "the driver reported an Xid error" },
  GpuNodeGroupNoCapacity: { severity: "warning", scope: "node group", meaning: "GPU pods of the group stay Pending" },
} as const satisfies Record<string, { severity: Severity; scope: string; meaning: string }>;

export type AlertName = keyof typeof ALERT_CATALOGUE;
export const ALERT_NAMES = Object.keys(ALERT_CATALOGUE) as AlertName[];

/** GitHub-style anchor of the runbook heading `## <AlertName>`. */
const runbookAnchor = (alert: AlertName): string => alert.toLowerCase();

/**
 * The absolute runbook link of an alert: `<base>#<anchor>` (any fragment of the base is replaced). Prometheus
 * expands every annotation as a Go template, so a literal `{{` in the URL is written as the template string
 * `{{ "{{" }}` and comes out unchanged (config refuses `{{` in runbookBaseUrl; this keeps the link intact anyway).
 */
export function runbookUrl(base: string, alert: AlertName): string {
  const url = `${base.replace(/#.*$/, "")}#${runbookAnchor(alert)}`;
  return url.replace(/\{\{/g, '{{ "{{" }}');
}
