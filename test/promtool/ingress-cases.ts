/**
 * `promtool test rules` cases for ModelServiceHighErrorRate measured at the ingress, for engines that count no
 * failures. The rules come from the component's own builder with the real adapters (SGLang and KServe declare no
 * errorRatio) and an enabled ingress; the input series look as Prometheus stores the NGINX Ingress Controller's
 * latency histogram after the ServiceMonitor scrape (honorLabels keeps the histogram's own `service`).
 */
import { IngressSchema, ModelConfigSchema, type ModelConfig } from "../../components/config";
import { buildRuleGroups, type RuleGroup } from "../../components/observability/alert-rules";
import { UPSTREAM_RESPONSES } from "../../components/ingress/nginx-ingress/metrics";
import { VIRTUAL_SERVER_NAME } from "../../components/ingress/nginx-ingress/objects";
import { NS, RUNBOOK, THRESHOLDS } from "./fixtures";
import type { TestCase } from "./cases";

const model = (m: Record<string, unknown>): ModelConfig => ModelConfigSchema.parse(m);
/** gamma: SGLang (no failure counter); delta: KServe (none either); epsilon: vLLM (has one). */
export const GAMMA = model({
  name: "gamma",
  model: "BAAI/bge-large-zh-v1.5",
  engine: "sglang",
  task: "embed",
  replicas: { min: 1, max: 2 },
  slo: { p99LatencyMs: 300 },
});
export const DELTA = model({
  name: "delta",
  model: "thenlper/gte-base",
  engine: "kserve",
  task: "embed",
  replicas: { min: 1, max: 2 },
  slo: { p99LatencyMs: 300 },
});
export const EPSILON = model({
  name: "epsilon",
  model: "Qwen/Qwen3-Reranker-4B",
  engine: "vllm",
  task: "rerank",
  replicas: { min: 1, max: 2 },
  slo: { p99LatencyMs: 2000 },
});
export const INGRESS_MODELS = [GAMMA, DELTA, EPSILON];
export const INGRESS = IngressSchema.parse({
  host: "retrieval.example.com",
  tls: { mode: "secret", secretName: "tls" },
});

export function ingressRuleGroups(): RuleGroup[] {
  return buildRuleGroups({
    models: INGRESS_MODELS,
    thresholds: THRESHOLDS,
    runbookBaseUrl: RUNBOOK,
    modelsNamespace: NS,
    ingress: INGRESS,
  });
}

/** One upstream response counter of the controller, for a model's Service and status code, as scraped. */
function responses(
  service: string,
  code: string,
  values: string,
  o: { resourceNamespace?: string; pod?: string } = {},
) {
  const labels: Record<string, string> = {
    // The histogram's own labels (latency.go: upstream, server, code, then the upstream-server and peer labels).
    upstream: `vs_${o.resourceNamespace ?? NS}_${VIRTUAL_SERVER_NAME}_${service}`,
    server: "10.0.3.17:30000",
    code,
    service,
    resource_type: "virtualserver",
    resource_name: VIRTUAL_SERVER_NAME,
    resource_namespace: o.resourceNamespace ?? NS,
    pod_name: o.pod ?? `${service}-0`,
    // Target labels the ServiceMonitor scrape adds.
    namespace: "ingress",
    pod: "nginx-ingress-7d9f8-abcde",
    job: "nginx-ingress-metrics",
    endpoint: "metrics",
  };
  return {
    series: `${UPSTREAM_RESPONSES}{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(",")}}`,
    values,
  };
}

const labels = (model: string, engine: string) => ({
  alertname: "ModelServiceHighErrorRate",
  severity: "critical",
  model,
  namespace: NS,
  engine,
});
const none: TestCase["alert_rule_test"][number]["exp_alerts"] = [];

export const INGRESS_CASES: TestCase[] = [
  {
    name: "SGLang model: 10% 503 answers at the ingress fire (4xx count as answers, not failures); KServe at 2% and another namespace's Service do not",
    interval: "1m",
    input_series: [
      // gamma, two engine pods: 85 + 5 (400) + 10 (503) per minute = 10% server errors.
      responses("gamma", "200", "0+45x30", { pod: "gamma-0" }),
      responses("gamma", "200", "0+40x30", { pod: "gamma-1" }),
      responses("gamma", "400", "0+5x30"),
      responses("gamma", "503", "0+10x30", { pod: "gamma-1" }),
      // delta: 2% server errors.
      responses("delta", "200", "0+98x30"),
      responses("delta", "503", "0+2x30"),
      // A Service called delta in another namespace failing every request is not our model.
      responses("delta", "502", "0+50x30", { resourceNamespace: "staging" }),
    ],
    alert_rule_test: [
      { eval_time: "4m", alertname: "ModelServiceHighErrorRate", exp_alerts: none },
      {
        eval_time: "15m",
        alertname: "ModelServiceHighErrorRate",
        exp_alerts: [
          {
            exp_labels: labels("gamma", "sglang"),
            exp_annotations: {
              summary: "Model gamma fails 10% of requests",
              description:
                "Model gamma (sglang) answered 10% of the requests that reached it through the ingress with a server error (5xx) over 5m (threshold 5%) for 5m.",
              runbook_url: `${RUNBOOK}#modelservicehigherrorrate`,
            },
          },
        ],
      },
    ],
  },
  {
    name: "SGLang model: a low 5xx ratio (2%), client errors (30% 422) and no traffic do not fire",
    interval: "1m",
    input_series: [
      responses("gamma", "200", "0+68x30"),
      responses("gamma", "422", "0+30x30"),
      responses("gamma", "503", "0+2x30"),
      // delta: no traffic at all (no series): NaN, not an alert.
    ],
    alert_rule_test: [{ eval_time: "20m", alertname: "ModelServiceHighErrorRate", exp_alerts: none }],
  },
  {
    name: "KServe model: 20% 504 answers fire; a vLLM model's alert reads its own counter, not the ingress",
    interval: "1m",
    input_series: [
      responses("delta", "200", "0+80x30"),
      responses("delta", "504", "0+20x30"),
      // epsilon behind the same ingress failing half its requests there: its alert counts vLLM's own failures.
      responses("epsilon", "200", "0+50x30"),
      responses("epsilon", "500", "0+50x30"),
    ],
    alert_rule_test: [
      {
        eval_time: "15m",
        alertname: "ModelServiceHighErrorRate",
        exp_alerts: [
          {
            exp_labels: labels("delta", "kserve"),
            exp_annotations: {
              summary: "Model delta fails 20% of requests",
              description:
                "Model delta (kserve) answered 20% of the requests that reached it through the ingress with a server error (5xx) over 5m (threshold 5%) for 5m.",
              runbook_url: `${RUNBOOK}#modelservicehigherrorrate`,
            },
          },
        ],
      },
    ],
  },
];

/** The same models behind the ingress and the gateway (today's main path: client -> gateway -> engine). */
export function ingressAndGatewayRuleGroups(): RuleGroup[] {
  return buildRuleGroups({
    models: INGRESS_MODELS,
    thresholds: THRESHOLDS,
    runbookBaseUrl: RUNBOOK,
    modelsNamespace: NS,
    ingress: INGRESS,
    gateway: { enabled: true },
  });
}

/** The gateway's answers counter for one key, model and status, as scraped from a gateway pod. */
const gatewayAnswers = (model: string, status: string, values: string, key = "acme") => ({
  series: `retrieval_gateway_requests_total{namespace="${NS}",pod="gateway-0",key="${key}",model="${model}",route="embeddings",status="${status}"}`,
  values,
});

export const GATEWAY_PATH_CASES: TestCase[] = [
  {
    name: "SGLang model called only through the gateway: 10% 504/502 answers fire (the ingress's direct route is idle); KServe's 2% through both paths does not",
    interval: "1m",
    input_series: [
      // gamma: no direct-route traffic at all, 90 + 6 (504) + 4 (502) per minute at the gateway, over two keys.
      gatewayAnswers("gamma", "200", "0+60x30"),
      gatewayAnswers("gamma", "200", "0+30x30", "beta-corp"),
      gatewayAnswers("gamma", "504", "0+6x30"),
      gatewayAnswers("gamma", "502", "0+4x30", "beta-corp"),
      // delta: 1 of 50 at the ingress and 1 of 50 at the gateway fail: 2%.
      responses("delta", "200", "0+49x30"),
      responses("delta", "503", "0+1x30"),
      gatewayAnswers("delta", "200", "0+49x30"),
      gatewayAnswers("delta", "503", "0+1x30"),
    ],
    alert_rule_test: [
      {
        eval_time: "15m",
        alertname: "ModelServiceHighErrorRate",
        exp_alerts: [
          {
            exp_labels: labels("gamma", "sglang"),
            exp_annotations: {
              summary: "Model gamma fails 10% of requests",
              description:
                "Model gamma (sglang) answered 10% of the requests that reached it through the ingress and gateway with a server error (5xx) over 5m (threshold 5%) for 5m.",
              runbook_url: `${RUNBOOK}#modelservicehigherrorrate`,
            },
          },
        ],
      },
    ],
  },
  {
    name: "KServe model: 2% at the ingress and 30% at the gateway add up to 16% and fire",
    interval: "1m",
    input_series: [
      responses("delta", "200", "0+98x30"),
      responses("delta", "503", "0+2x30"),
      gatewayAnswers("delta", "200", "0+70x30"),
      gatewayAnswers("delta", "503", "0+30x30"),
    ],
    alert_rule_test: [
      {
        eval_time: "15m",
        alertname: "ModelServiceHighErrorRate",
        exp_alerts: [
          {
            exp_labels: labels("delta", "kserve"),
            exp_annotations: {
              summary: "Model delta fails 16% of requests",
              description:
                "Model delta (kserve) answered 16% of the requests that reached it through the ingress and gateway with a server error (5xx) over 5m (threshold 5%) for 5m.",
              runbook_url: `${RUNBOOK}#modelservicehigherrorrate`,
            },
          },
        ],
      },
    ],
  },
];
