import type { EngineName, ModelConfig } from "../config";
import { adapterFor as defaultAdapterFor, type EngineAdapter } from "../serving/engines";
import { modelSelector } from "../serving/metric-labels";
import { ingressServerErrorRates, type IngressMetricsConfig } from "../ingress/metrics";
import { GATEWAY_REQUESTS } from "./metric-catalogue";

/**
 * Where a model's error ratio is counted: the engine's own failure counter, or the answers that reached the model
 * through the ingress's direct route and/or through the gateway (whichever the stack has).
 */
type ErrorRatioSource = "engine" | "ingress" | "gateway" | "ingress and gateway";

export interface ErrorRatio {
  readonly source: ErrorRatioSource;
  /** PromQL for the share (0..1) of failed requests over `window`. */
  expr(window: string): string;
}

interface ErrorRatioContext {
  /** Every model of the stack (the ingress route table is planned over all of them). */
  readonly models: readonly ModelConfig[];
  readonly namespace: string;
  /** The stack's ingress; undefined or disabled = no ingress measurement. */
  readonly ingress?: IngressMetricsConfig;
  /** The stack's gateway; undefined or disabled = no gateway measurement. */
  readonly gateway?: { readonly enabled: boolean };
  readonly adapterFor?: (engine: EngineName) => EngineAdapter;
}

/** Answers/s with a 5xx and all answers/s the gateway gave for `model` (images/gateway/src/metrics.ts). */
function gatewayServerErrorRates(model: string, window: string): { failed: string; all: string } {
  const s = `model="${model}"`;
  return {
    failed: `sum(rate(${GATEWAY_REQUESTS}{${s},status=~"5.."}[${window}]))`,
    all: `sum(rate(${GATEWAY_REQUESTS}{${s}}[${window}]))`,
  };
}

/** Sum of rates where any may have no series yet (a path nobody used): a missing one counts as 0, not as "no data". */
const sumOf = (terms: readonly string[]) =>
  terms.length === 1 ? terms[0]! : terms.map((t) => `(${t} or on() vector(0))`).join(" + ");

/**
 * A model's error ratio: the engine's own failure counter when its adapter declares one (it sees every request,
 * whichever path it came by), else the share of 5xx answers clients got from the model on every path the stack
 * has: the ingress controller's direct route to the model's Service and the gateway's answers for the model (the
 * gateway answers 502/503/504 when the engine fails, is refused by the breaker, or times out). Undefined when
 * neither exists: then no ModelServiceHighErrorRate is rendered and plan.md says why.
 */
export function errorRatioOf(model: ModelConfig, ctx: ErrorRatioContext): ErrorRatio | undefined {
  const metrics = (ctx.adapterFor ?? defaultAdapterFor)(model.engine).metrics;
  const engineRatio = metrics.errorRatio;
  if (engineRatio) {
    const s = modelSelector(model.name, ctx.namespace);
    return { source: "engine", expr: (w) => engineRatio(s, w) };
  }
  const atIngress = ctx.ingress
    ? ingressServerErrorRates(model.name, ctx.models, ctx.ingress, ctx.namespace)
    : undefined;
  const atGateway = ctx.gateway?.enabled ? (w: string) => gatewayServerErrorRates(model.name, w) : undefined;
  const paths = [atIngress, atGateway].filter((p) => p !== undefined);
  if (paths.length === 0) return undefined;
  const source: ErrorRatioSource = atIngress && atGateway ? "ingress and gateway" : atIngress ? "ingress" : "gateway";
  return {
    source,
    expr: (w) => {
      const rates = paths.map((p) => p(w));
      return `(${sumOf(rates.map((r) => r.failed))}) / (${sumOf(rates.map((r) => r.all))})`;
    },
  };
}
