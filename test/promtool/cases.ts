/**
 * `promtool test rules` cases for every alert: series that must fire (with the labels and the expanded
 * annotations a person reads in chat) and series that must not, including "no data". Rules come from
 * fixtures.testRuleGroups(), i.e. the component's own builder.
 */
import { KSM_MODEL_LABEL } from "../../components/observability/alert-rules";
import { NS, RUNBOOK } from "./fixtures";

export interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
}
export interface TestCase {
  name: string;
  interval: string;
  input_series: { series: string; values: string }[];
  alert_rule_test: AlertTest[];
}

const sel = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;
export const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}${sel(labels)}`,
  values,
});

/** A model pod known to kube-state-metrics, ready or not, for `n` minutes. */
export function pod(model: string, name: string, ready: 0 | 1, n = 40) {
  return [
    series("kube_pod_labels", { namespace: NS, pod: name, [KSM_MODEL_LABEL]: model }, `1x${n}`),
    series("kube_pod_status_ready", { namespace: NS, pod: name, condition: "true" }, `${ready}x${n}`),
  ];
}
/** An engine series of a model, as the ServiceMonitor labels it. */
export const engine = (name: string, model: string, values: string, extra: Record<string, string> = {}) =>
  series(name, { namespace: NS, model, pod: `${model}-0`, ...extra }, values);

const modelLabels = (model: string, severity: string) => ({ severity, model, namespace: NS, engine: "vllm" });
const runbook = (alert: string) => `${RUNBOOK}#${alert.toLowerCase()}`;
export const none: AlertTest["exp_alerts"] = [];

/** A DCGM series as scraped: dcgm-exporter 4.8's own labels (`hostname`, the exporter's host) plus our `node`. */
const dcgm = {
  gpu: "0",
  UUID: "GPU-1234",
  modelName: "NVIDIA L4",
  hostname: "dcgm-exporter-abcde",
  node: "ip-10-0-1-17",
};
const gpuText = "GPU 0 (NVIDIA L4) on node ip-10-0-1-17";

export const CASES: TestCase[] = [
  {
    name: "ModelServiceDown: fires when pods exist but none is ready",
    interval: "1m",
    input_series: [...pod("alpha", "alpha-0", 0), ...pod("alpha", "alpha-1", 0)],
    alert_rule_test: [
      { eval_time: "3m", alertname: "ModelServiceDown", exp_alerts: none },
      {
        eval_time: "10m",
        alertname: "ModelServiceDown",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceDown", ...modelLabels("alpha", "critical") },
            exp_annotations: {
              summary: "Model alpha has no ready replica",
              description:
                "Model alpha (vllm, embed) in namespace retrieval has had no ready replica for 5m; every request to it fails.",
              runbook_url: runbook("ModelServiceDown"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceDown: no data (no pod at all) fires for an always-on model, not for a scale-to-zero model",
    interval: "1m",
    input_series: [],
    alert_rule_test: [
      {
        eval_time: "10m",
        alertname: "ModelServiceDown",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceDown", ...modelLabels("alpha", "critical") },
            exp_annotations: {
              summary: "Model alpha has no ready replica",
              description:
                "Model alpha (vllm, embed) in namespace retrieval has had no ready replica for 5m; every request to it fails.",
              runbook_url: runbook("ModelServiceDown"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceDown: one ready replica is enough; a scale-to-zero model with unready pods is down",
    interval: "1m",
    input_series: [...pod("alpha", "alpha-0", 1), ...pod("alpha", "alpha-1", 0), ...pod("beta", "beta-0", 0)],
    alert_rule_test: [
      {
        eval_time: "10m",
        alertname: "ModelServiceDown",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceDown", ...modelLabels("beta", "critical") },
            exp_annotations: {
              summary: "Model beta has no ready replica",
              description:
                "Model beta (vllm, rerank) in namespace retrieval has had no ready replica for 5m; every request to it fails.",
              runbook_url: runbook("ModelServiceDown"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceHighErrorRate: 10% failures fire, 2% do not",
    interval: "1m",
    input_series: [
      ...pod("alpha", "alpha-0", 1),
      ...pod("beta", "beta-0", 1),
      engine("test_requests_total", "alpha", "0+100x30"),
      engine("test_request_failures_total", "alpha", "0+10x30"),
      engine("test_requests_total", "beta", "0+100x30"),
      engine("test_request_failures_total", "beta", "0+2x30"),
    ],
    alert_rule_test: [
      {
        eval_time: "15m",
        alertname: "ModelServiceHighErrorRate",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceHighErrorRate", ...modelLabels("alpha", "critical") },
            exp_annotations: {
              summary: "Model alpha fails 10% of requests",
              description: "Model alpha (vllm) failed 10% of its requests over 5m (threshold 5%) for 5m.",
              runbook_url: runbook("ModelServiceHighErrorRate"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceHighLatencyP99: p99 496ms above alpha's 300ms SLO fires; the same latency is within beta's 1s SLO; no traffic stays silent",
    interval: "1m",
    input_series: [
      ...pod("alpha", "alpha-0", 1),
      ...["0.1", "0.5", "1", "+Inf"].flatMap((le) => [
        engine("test_request_duration_seconds_bucket", "alpha", le === "0.1" ? "0x40" : "0+10x40", { le }),
        engine("test_request_duration_seconds_bucket", "beta", le === "0.1" ? "0x40" : "0+10x40", { le }),
      ]),
      // gamma: no requests at all (NaN quantile) must not alert.
    ],
    alert_rule_test: [
      { eval_time: "8m", alertname: "ModelServiceHighLatencyP99", exp_alerts: none },
      {
        eval_time: "20m",
        alertname: "ModelServiceHighLatencyP99",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceHighLatencyP99", ...modelLabels("alpha", "warning") },
            exp_annotations: {
              summary: "Model alpha p99 latency 496ms is above its 300 ms SLO",
              description:
                "Model alpha (vllm) answered with p99 latency 496ms over 5m, above its SLO of 300 ms (models[].slo.p99LatencyMs), for 10m.",
              runbook_url: runbook("ModelServiceHighLatencyP99"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceHighLatencyP99: fast requests do not fire",
    interval: "1m",
    input_series: ["0.1", "0.5", "+Inf"].map((le) =>
      engine("test_request_duration_seconds_bucket", "alpha", "0+10x40", { le }),
    ),
    alert_rule_test: [{ eval_time: "30m", alertname: "ModelServiceHighLatencyP99", exp_alerts: none }],
  },
  {
    name: "ModelServiceQueueBacklog: 60 waiting over two replicas fire, 40 do not",
    interval: "1m",
    input_series: [
      engine("test_queue_size", "alpha", "30x30", { pod: "alpha-0" }),
      engine("test_queue_size", "alpha", "30x30", { pod: "alpha-1" }),
      engine("test_queue_size", "beta", "40x30"),
    ],
    alert_rule_test: [
      {
        eval_time: "15m",
        alertname: "ModelServiceQueueBacklog",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceQueueBacklog", ...modelLabels("alpha", "warning") },
            exp_annotations: {
              summary: "Model alpha has 60 requests waiting",
              description:
                "Model alpha (vllm) has had more than 50 requests waiting (now 60) for 10m: replicas cannot keep up.",
              runbook_url: runbook("ModelServiceQueueBacklog"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceAtMaxReplicas: 4 of max 4 ready fire, 3 do not",
    interval: "1m",
    input_series: [...[0, 1, 2, 3].flatMap((i) => pod("alpha", `alpha-${i}`, 1)), ...pod("beta", "beta-0", 1)],
    alert_rule_test: [
      { eval_time: "10m", alertname: "ModelServiceAtMaxReplicas", exp_alerts: none },
      {
        eval_time: "20m",
        alertname: "ModelServiceAtMaxReplicas",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServiceAtMaxReplicas", ...modelLabels("alpha", "warning") },
            exp_annotations: {
              summary: "Model alpha runs at its maximum of 4 replicas",
              description:
                "Model alpha has run 4 ready replicas, its replicas.max of 4, for 15m: the autoscaler cannot add capacity.",
              runbook_url: runbook("ModelServiceAtMaxReplicas"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelServiceAtMaxReplicas: below max stays silent",
    interval: "1m",
    input_series: [0, 1, 2].flatMap((i) => pod("alpha", `alpha-${i}`, 1)),
    alert_rule_test: [{ eval_time: "30m", alertname: "ModelServiceAtMaxReplicas", exp_alerts: none }],
  },
  {
    name: "ModelServicePodRestarting: 3 restarts in 15 minutes fire and name the pod; 1 restart does not",
    interval: "1m",
    input_series: [
      ...pod("alpha", "alpha-0", 1),
      ...pod("alpha", "alpha-1", 1),
      series(
        "kube_pod_container_status_restarts_total",
        { namespace: NS, pod: "alpha-0", container: "engine" },
        "0 0 1 2 3 3 3 3 3 3 3",
      ),
      series(
        "kube_pod_container_status_restarts_total",
        { namespace: NS, pod: "alpha-1", container: "engine" },
        "0 0 1 1 1 1 1 1 1 1 1",
      ),
    ],
    alert_rule_test: [
      {
        eval_time: "10m",
        alertname: "ModelServicePodRestarting",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelServicePodRestarting", ...modelLabels("alpha", "warning"), pod: "alpha-0" },
            exp_annotations: {
              summary: "Pod alpha-0 of model alpha is restarting",
              description: "Pod alpha-0 of model alpha (vllm) restarted 3 times in 15 minutes (threshold 3).",
              runbook_url: runbook("ModelServicePodRestarting"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelMetricsMissing: no engine series (no data) fires for a running model; a scale-to-zero model without pods stays silent",
    interval: "1m",
    input_series: [...pod("alpha", "alpha-0", 1, 30)],
    alert_rule_test: [
      { eval_time: "8m", alertname: "ModelMetricsMissing", exp_alerts: none },
      {
        eval_time: "20m",
        alertname: "ModelMetricsMissing",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelMetricsMissing", ...modelLabels("alpha", "warning") },
            exp_annotations: {
              summary: "No metrics from model alpha",
              description:
                "Prometheus has received none of vllm's metrics (test_queue_size, test_running, test_request_duration_seconds_bucket, test_request_duration_seconds_sum, test_request_duration_seconds_count, test_requests_total, test_request_failures_total) for model alpha for 10m: dashboards, alerts and autoscaling are blind.",
              runbook_url: runbook("ModelMetricsMissing"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "ModelMetricsMissing: any of the engine's series present keeps it silent; metrics that stop fire later",
    interval: "1m",
    input_series: [
      ...pod("alpha", "alpha-0", 1, 60),
      ...pod("beta", "beta-0", 1, 60),
      engine("test_running", "alpha", "1x60"),
      engine("test_running", "beta", "1x10 _x50"),
    ],
    alert_rule_test: [
      {
        eval_time: "30m",
        alertname: "ModelMetricsMissing",
        exp_alerts: [
          {
            exp_labels: { alertname: "ModelMetricsMissing", ...modelLabels("beta", "warning") },
            exp_annotations: {
              summary: "No metrics from model beta",
              description:
                "Prometheus has received none of vllm's metrics (test_queue_size, test_running, test_request_duration_seconds_bucket, test_request_duration_seconds_sum, test_request_duration_seconds_count, test_requests_total, test_request_failures_total) for model beta for 10m: dashboards, alerts and autoscaling are blind.",
              runbook_url: runbook("ModelMetricsMissing"),
            },
          },
        ],
      },
      { eval_time: "12m", alertname: "ModelMetricsMissing", exp_alerts: none },
    ],
  },
  {
    name: "GpuMemoryPressure: 97.8% used by a TEI pod (allocates as it goes) fires; 99% held by a vLLM pod (reserves its share up front) and an idle GPU do not",
    interval: "1m",
    input_series: [
      series("kube_pod_labels", { namespace: NS, pod: "gamma-0", [KSM_MODEL_LABEL]: "gamma" }, "1x30"),
      series("kube_pod_labels", { namespace: NS, pod: "alpha-0", [KSM_MODEL_LABEL]: "alpha" }, "1x30"),
      // dcgm-exporter names the pod holding the GPU in `pod`/`namespace`; the scrape keeps them as exported_*.
      series("DCGM_FI_DEV_FB_USED", { ...dcgm, exported_namespace: NS, exported_pod: "gamma-0" }, "22500x30"),
      series("DCGM_FI_DEV_FB_FREE", { ...dcgm, exported_namespace: NS, exported_pod: "gamma-0" }, "500x30"),
      series(
        "DCGM_FI_DEV_FB_USED",
        { ...dcgm, gpu: "1", UUID: "GPU-5678", exported_namespace: NS, exported_pod: "alpha-0" },
        "22770x30",
      ),
      series(
        "DCGM_FI_DEV_FB_FREE",
        { ...dcgm, gpu: "1", UUID: "GPU-5678", exported_namespace: NS, exported_pod: "alpha-0" },
        "230x30",
      ),
      series("DCGM_FI_DEV_FB_USED", { ...dcgm, gpu: "2", UUID: "GPU-9999" }, "22900x30"),
      series("DCGM_FI_DEV_FB_FREE", { ...dcgm, gpu: "2", UUID: "GPU-9999" }, "100x30"),
    ],
    alert_rule_test: [
      { eval_time: "5m", alertname: "GpuMemoryPressure", exp_alerts: none },
      {
        eval_time: "15m",
        alertname: "GpuMemoryPressure",
        exp_alerts: [
          {
            exp_labels: {
              alertname: "GpuMemoryPressure",
              severity: "warning",
              models: "gamma",
              ...dcgm,
              exported_namespace: NS,
              exported_pod: "gamma-0",
            },
            exp_annotations: {
              summary: "GPU memory 97.83% used by pod gamma-0 on node ip-10-0-1-17",
              description: `${gpuText}, held by pod gamma-0, has used 97.83% of its framebuffer (threshold 95%) for 10m; its engine allocates memory as it goes, so the next large batch may fail with CUDA out of memory.`,
              runbook_url: runbook("GpuMemoryPressure"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GpuHighUtilization: 95% sustained fires, 50% does not",
    interval: "1m",
    input_series: [
      series("DCGM_FI_DEV_GPU_UTIL", { ...dcgm, gpu: "0", UUID: "GPU-1", node: "gpu-node-a" }, "95x40"),
      series("DCGM_FI_DEV_GPU_UTIL", { ...dcgm, gpu: "1", UUID: "GPU-2" }, "50x40"),
    ],
    alert_rule_test: [
      { eval_time: "10m", alertname: "GpuHighUtilization", exp_alerts: none },
      {
        eval_time: "25m",
        alertname: "GpuHighUtilization",
        exp_alerts: [
          {
            exp_labels: {
              alertname: "GpuHighUtilization",
              severity: "warning",
              ...dcgm,
              gpu: "0",
              UUID: "GPU-1",
              node: "gpu-node-a",
            },
            exp_annotations: {
              summary: "GPU utilisation 95% on node gpu-node-a",
              description:
                "GPU 0 (NVIDIA L4) on node gpu-node-a has been more than 90% busy (now 95%) for 15m: the models on it are saturated.",
              runbook_url: runbook("GpuHighUtilization"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GpuXidErrors: an Xid fires at once and clears when it leaves the exporter's window; a repeat of the same Xid fires again; the last-Xid gauge stuck at 79 does not",
    interval: "1m",
    input_series: [
      // dcgm-exporter's count of Xids per GPU and code within its 5-minute window (0: none).
      series(
        "DCGM_EXP_XID_ERRORS_COUNT",
        { ...dcgm, xid: "79", window_size_in_ms: "300000" },
        "0 0 1 1 1 1 1 0 0 0 0 2 2",
      ),
      series("DCGM_EXP_XID_ERRORS_COUNT", { ...dcgm, gpu: "1", UUID: "GPU-5678", window_size_in_ms: "300000" }, "0x12"),
      // The last-Xid field never resets: after one Xid it holds 79 forever, and must not keep the alert firing.
      series("DCGM_FI_DEV_XID_ERRORS", dcgm, "0 0 79x11"),
    ],
    alert_rule_test: [
      { eval_time: "1m", alertname: "GpuXidErrors", exp_alerts: none },
      ...["2m", "11m"].map((eval_time) => ({
        eval_time,
        alertname: "GpuXidErrors",
        exp_alerts: [
          {
            exp_labels: {
              alertname: "GpuXidErrors",
              severity: "warning",
              ...dcgm,
              xid: "79",
              window_size_in_ms: "300000",
            },
            exp_annotations: {
              summary: "Xid 79 on node ip-10-0-1-17",
              description: `${gpuText} reported Xid error 79 ${eval_time === "2m" ? 1 : 2} time(s) within dcgm-exporter's 5-minute window (NVIDIA Xid catalogue: 48/63/64/74/79/92-95 mean the GPU needs a reset or the node replacing).`,
              runbook_url: runbook("GpuXidErrors"),
            },
          },
        ],
      })),
      { eval_time: "8m", alertname: "GpuXidErrors", exp_alerts: none },
    ],
  },
  {
    name: "GpuXidErrors: the message names the node from `node`, not from dcgm-exporter's `hostname`",
    interval: "1m",
    input_series: [
      series(
        "DCGM_EXP_XID_ERRORS_COUNT",
        {
          gpu: "2",
          UUID: "GPU-9",
          modelName: "NVIDIA L40S",
          hostname: "dcgm-exporter-xyz12",
          node: "gpu-node-b",
          xid: "48",
        },
        "1x3",
      ),
    ],
    alert_rule_test: [
      {
        eval_time: "2m",
        alertname: "GpuXidErrors",
        exp_alerts: [
          {
            exp_labels: {
              alertname: "GpuXidErrors",
              severity: "warning",
              gpu: "2",
              UUID: "GPU-9",
              modelName: "NVIDIA L40S",
              hostname: "dcgm-exporter-xyz12",
              node: "gpu-node-b",
              xid: "48",
            },
            exp_annotations: {
              summary: "Xid 48 on node gpu-node-b",
              description:
                "GPU 2 (NVIDIA L40S) on node gpu-node-b reported Xid error 48 1 time(s) within dcgm-exporter's 5-minute window (NVIDIA Xid catalogue: 48/63/64/74/79/92-95 mean the GPU needs a reset or the node replacing).",
              runbook_url: runbook("GpuXidErrors"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GpuNodeGroupNoCapacity: a Pending pod of a model on l4 fires for l4; Running pods do not",
    interval: "1m",
    input_series: [
      ...pod("alpha", "alpha-0", 1),
      ...pod("alpha", "alpha-2", 0),
      series("kube_pod_status_phase", { namespace: NS, pod: "alpha-0", phase: "Running" }, "1x30"),
      series("kube_pod_status_phase", { namespace: NS, pod: "alpha-0", phase: "Pending" }, "0x30"),
      series("kube_pod_status_phase", { namespace: NS, pod: "alpha-2", phase: "Pending" }, "1x30"),
      // A Pending pod of another workload is not this node group's problem.
      series("kube_pod_status_phase", { namespace: NS, pod: "other-0", phase: "Pending" }, "1x30"),
    ],
    alert_rule_test: [
      { eval_time: "5m", alertname: "GpuNodeGroupNoCapacity", exp_alerts: none },
      {
        eval_time: "15m",
        alertname: "GpuNodeGroupNoCapacity",
        exp_alerts: [
          {
            exp_labels: {
              alertname: "GpuNodeGroupNoCapacity",
              severity: "warning",
              node_group: "l4",
              models: "alpha,beta",
            },
            exp_annotations: {
              summary: "1 GPU pods of node group l4 cannot be scheduled",
              description:
                "1 pods of model(s) alpha, beta have been Pending on GPU node group l4 for 10m: the group is at its maxSize, out of GPUs of its instance type, or the pods do not match its labels/taint.",
              runbook_url: runbook("GpuNodeGroupNoCapacity"),
            },
          },
        ],
      },
    ],
  },
  {
    name: "GpuNodeGroupNoCapacity: no pending pod stays silent",
    interval: "1m",
    input_series: [
      ...pod("alpha", "alpha-0", 1),
      series("kube_pod_status_phase", { namespace: NS, pod: "alpha-0", phase: "Pending" }, "0x30"),
    ],
    alert_rule_test: [{ eval_time: "20m", alertname: "GpuNodeGroupNoCapacity", exp_alerts: none }],
  },
];
