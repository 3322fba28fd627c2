/**
 * The ingress's view of a model for alerts and dashboards, controller-independent: which Service its route sends
 * to (the route table) and the controller driver's query for the share of server errors clients got from it.
 */
import type { IngressConfig } from "../config/ingress";
import type { ModelConfig } from "../config/serving";
import { controller } from "./controller";
import { planRoutes } from "./routes";

/** Metric names the ingress queries read (for the observability allow-list). */
export const INGRESS_METRIC_NAMES: readonly string[] = controller.metrics.metricNames;

export type IngressMetricsConfig = Pick<IngressConfig, "enabled" | "rateLimit" | "modelRateLimits">;

/**
 * PromQL builder (window -> expression) for the share of the requests routed to `model` that its engine answered
 * with a 5xx, measured at the ingress controller; undefined when the ingress is disabled or does not route it.
 * @param namespace namespace of the model Services (and of the route objects)
 */
export function ingressServerErrorRatio(
  model: string,
  models: readonly ModelConfig[],
  ingress: IngressMetricsConfig,
  namespace: string,
): ((window: string) => string) | undefined {
  if (!ingress.enabled) return undefined;
  const route = planRoutes(models, ingress).routes.find((r) => r.model === model);
  if (!route) return undefined;
  return (window) => controller.metrics.serverErrorRatio({ service: route.service.name, namespace }, window);
}

/** The rates behind ingressServerErrorRatio (5xx answers/s, all answers/s); undefined where that is undefined. */
export function ingressServerErrorRates(
  model: string,
  models: readonly ModelConfig[],
  ingress: IngressMetricsConfig,
  namespace: string,
): ((window: string) => { readonly failed: string; readonly all: string }) | undefined {
  if (!ingress.enabled) return undefined;
  const route = planRoutes(models, ingress).routes.find((r) => r.model === model);
  if (!route) return undefined;
  return (window) => controller.metrics.serverErrorRates({ service: route.service.name, namespace }, window);
}
