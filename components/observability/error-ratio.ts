import type { EngineName, ModelConfig } from "../config";
import { adapterFor as defaultAdapterFor, type EngineAdapter } from "../serving/engines";
import { modelSelector } from "../serving/metric-labels";
import { ingressServerErrorRatio, type IngressMetricsConfig } from "../ingress/metrics";

/** Where a model's error ratio is counted. */
export type ErrorRatioSource = "engine" | "ingress";

export interface ErrorRatio {
  readonly source: ErrorRatioSource;
  /** PromQL for the share (0..1) of failed requests over `window`. */
  expr(window: string): string;
}

export interface ErrorRatioContext {
  /** Every model of the stack (the ingress route table is planned over all of them). */
  readonly models: readonly ModelConfig[];
  readonly namespace: string;
  /** The stack's ingress; undefined or disabled = no ingress measurement. */
  readonly ingress?: IngressMetricsConfig;
  readonly adapterFor?: (engine: EngineName) => EngineAdapter;
}

/**
 * A model's error ratio: the engine's own failure counter when its adapter declares one (it also sees requests
 * that do not pass the ingress), else the share of 5xx answers the ingress controller got from the model's Service.
 * Undefined when neither exists: then no ModelServiceHighErrorRate is rendered and plan.md says why.
 */
export function errorRatioOf(model: ModelConfig, ctx: ErrorRatioContext): ErrorRatio | undefined {
  const metrics = (ctx.adapterFor ?? defaultAdapterFor)(model.engine).metrics;
  const engineRatio = metrics.errorRatio;
  if (engineRatio) {
    const s = modelSelector(model.name, ctx.namespace);
    return { source: "engine", expr: (w) => engineRatio(s, w) };
  }
  const atIngress = ctx.ingress
    ? ingressServerErrorRatio(model.name, ctx.models, ctx.ingress, ctx.namespace)
    : undefined;
  return atIngress ? { source: "ingress", expr: atIngress } : undefined;
}
