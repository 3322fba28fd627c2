import type * as k8s from "@pulumi/kubernetes";
import type { EngineMetrics, EngineWorkload } from "./engines/types";
import { MODEL_METRIC_LABEL, MODEL_POD_LABEL } from "./metric-labels";

/** Every model's Service listens on port 80 ("http") and forwards to the engine's own port. */
export const MODEL_SERVICE_PORT = 80;
/** How often Prometheus scrapes the engines. */
export const SCRAPE_INTERVAL = "15s";
/**
 * Label only our model Service carries (value: the model name); the ServiceMonitor selects by it. KServe creates a
 * second Service for every InferenceService (`<name>-predictor`) whose labels are the InferenceService's and the
 * predictor's labels plus KServe's own (pkg/controller/v1beta1/inferenceservice/components/predictor.go
 * buildObjectMeta at v0.20.0, read 2026-12-01): a selector on pod labels would match both Services and every
 * series would be scraped twice.
 */
export const METRICS_SERVICE_LABEL = "retrieval-stack.io/metrics-service";

type ServiceSpec = k8s.types.input.core.v1.ServiceSpec;

interface ServicePlan {
  readonly labels: Record<string, string>;
  readonly spec: ServiceSpec;
  /** The Service port name the metrics are scraped on ("http" when the engine serves them on its HTTP port). */
  readonly metricsPortName: "http" | "metrics";
}

/** The model's ClusterIP Service: port 80 to the engine, plus the metrics port when the engine has its own. Pure. */
export function planService(
  modelName: string,
  labels: Readonly<Record<string, string>>,
  selector: Readonly<Record<string, string>>,
  workload: Pick<EngineWorkload, "port">,
  metrics: Pick<EngineMetrics, "port">,
): ServicePlan {
  const metricsPortName = metrics.port === workload.port ? "http" : "metrics";
  return {
    labels: { ...labels, [METRICS_SERVICE_LABEL]: modelName },
    metricsPortName,
    spec: {
      type: "ClusterIP",
      selector: { ...selector },
      ports: [
        { name: "http", port: MODEL_SERVICE_PORT, targetPort: workload.port, protocol: "TCP" },
        ...(metricsPortName === "metrics"
          ? [{ name: "metrics", port: metrics.port, targetPort: metrics.port, protocol: "TCP" }]
          : []),
      ],
    },
  };
}

/** The ServiceMonitor spec that scrapes exactly our Service of one model and labels every series model="<name>". Pure. */
export function planServiceMonitor(
  modelName: string,
  namespace: string,
  service: ServicePlan,
  metrics: Pick<EngineMetrics, "path">,
): Record<string, unknown> {
  return {
    selector: { matchLabels: { [METRICS_SERVICE_LABEL]: modelName } },
    namespaceSelector: { matchNames: [namespace] },
    endpoints: [
      {
        port: service.metricsPortName,
        path: metrics.path,
        interval: SCRAPE_INTERVAL,
        // Every series gets model="<name>", whatever label the engine uses (see metric-labels.ts).
        relabelings: [
          {
            sourceLabels: [`__meta_kubernetes_pod_label_${MODEL_POD_LABEL.replace(/[^A-Za-z0-9_]/g, "_")}`],
            targetLabel: MODEL_METRIC_LABEL,
            action: "replace",
          },
        ],
      },
    ],
  };
}
