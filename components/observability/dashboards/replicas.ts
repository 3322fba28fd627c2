import { readyReplicas } from "../alert-rules";
import type { Query } from "./panels";

/**
 * KEDA names the HPA it creates `keda-hpa-<ScaledObject name>` (keda.sh docs "ScaledObject spec", read 2026-11);
 * the ModelService names its ScaledObject after the model.
 */
const kedaHpaName = (model: string): string => `keda-hpa-${model}`;

/** Ready replicas against what the autoscaler wants and allows. */
export function replicaQueries(model: string, namespace: string): Query[] {
  const hpa = `namespace="${namespace}",horizontalpodautoscaler="${kedaHpaName(model)}"`;
  return [
    { expr: readyReplicas(model, namespace), legend: "ready" },
    { expr: `max(kube_horizontalpodautoscaler_status_desired_replicas{${hpa}})`, legend: "autoscaler target" },
    { expr: `max(kube_horizontalpodautoscaler_spec_min_replicas{${hpa}})`, legend: "min" },
    { expr: `max(kube_horizontalpodautoscaler_spec_max_replicas{${hpa}})`, legend: "max" },
  ];
}
