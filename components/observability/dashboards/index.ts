import type { Dashboard } from "@grafana/schema";
import type { CanaryConfig, EngineName, ModelConfig } from "../../config";
import { adapterFor as defaultAdapterFor, type EngineAdapter } from "../../serving/engines";
import { engineDashboard } from "./engine";
import { gpuDashboard } from "./gpu";
import { modelDashboard } from "./model";
import { errorRatioOf } from "../error-ratio";
import type { IngressMetricsConfig } from "../../ingress/metrics";

export { queriesOf } from "./panels";

/**
 * Every dashboard of a stack: one per engine in use, the GPU dashboard when a model uses GPUs, one per model.
 * @param ingress the stack's ingress: models whose engine counts no failures show the error ratio measured there
 */
export function buildDashboards(
  models: readonly ModelConfig[],
  namespace: string,
  adapterFor: (e: EngineName) => EngineAdapter = defaultAdapterFor,
  ingress?: IngressMetricsConfig,
  extras: {
    readonly canary?: CanaryConfig;
    readonly logs?: boolean;
    readonly gateway?: { readonly enabled: boolean };
  } = {},
): Dashboard[] {
  const engines = [...new Set(models.map((m) => m.engine))].sort();
  return [
    ...engines.map((e) => engineDashboard(e, models, namespace, adapterFor)),
    ...(models.some((m) => m.gpu) ? [gpuDashboard()] : []),
    ...models.map((m) =>
      modelDashboard(
        m,
        namespace,
        adapterFor,
        errorRatioOf(m, { models, namespace, ingress, gateway: extras.gateway, adapterFor }),
        extras,
      ),
    ),
  ];
}
