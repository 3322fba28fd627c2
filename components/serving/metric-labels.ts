/**
 * How dashboards, alerts and the autoscaler select one model's series, whatever the engine. The ModelService's
 * ServiceMonitor copies the pod label MODEL_POD_LABEL into the target label MODEL_METRIC_LABEL, so every engine's
 * series carry `model="<model name>"` next to the `namespace` label Prometheus adds itself. Engines' own model
 * labels differ (vLLM/SGLang `model_name`, Xinference `model_uid`, TEI none), which is why we do not rely on them.
 */
export const MODEL_METRIC_LABEL = "model";
/** Pod label carrying the model name (ModelService sets it on every engine pod). */
export const MODEL_POD_LABEL = "retrieval-stack.io/model";

/** PromQL matcher list (no braces) for one model: pass it to an adapter's `metrics` builders. */
export function modelSelector(modelName: string, namespace: string): string {
  return `namespace="${namespace}",${MODEL_METRIC_LABEL}="${modelName}"`;
}
