import type * as http from "node:http";
import type { Admission } from "../admission";
import type { ByteBudget } from "../byte-budget";
import type { RequestContext } from "../context";
import type { EngineCall } from "../engine";
import type { UpstreamInvalid } from "../errors";
import type { GatewayMetrics } from "../metrics";
import type { ModelRoute } from "../model-routes";

/** What an API handler gets. */
export interface ApiDeps {
  readonly admission: Admission;
  readonly metrics: GatewayMetrics;
  readonly budget: ByteBudget;
  /** The gateway's cap on one engine answer (maxAnswerBytes). */
  readonly maxAnswerBytes: number;
  readonly log: (message: string) => void;
}

/** A POST handler: the parsed body in, the 200 payload out; failures are thrown as GatewayError. */
export type ApiHandler = (body: unknown, req: http.IncomingMessage, ctx: RequestContext) => Promise<unknown>;

/**
 * The options of one engine call: ids for tracing, duration per upstream, the answer's size cap (the request's own
 * bound when it is smaller than the gateway's) and its bytes taken from the instance's budget.
 */
export function engineCall(deps: ApiDeps, route: ModelRoute, ctx: RequestContext, answerBound: number): EngineCall {
  return {
    headers: { "x-request-id": ctx.id, traceparent: ctx.traceparent },
    observe: (upstream: string, seconds: number) =>
      deps.metrics.upstreamDuration.observe({ model: route.model.name, upstream }, seconds),
    maxBytes: Math.min(deps.maxAnswerBytes, answerBound),
    take: (n) => {
      if (!deps.budget.take(n)) return false;
      ctx.held += n;
      return true;
    },
    log: (m) => deps.log(`request ${ctx.id}: ${m}`),
  };
}

/** Counts an engine answer that was refused (metric per model and reason). */
export const countInvalid = (deps: ApiDeps, model: string) => (e: UpstreamInvalid) =>
  deps.metrics.upstreamInvalid.inc({ model, reason: e.reason });

/** An upper bound of a text's tokens: every token of every tokenizer we serve holds at least one byte. */
export const tokenBound = (texts: readonly string[], maxTokens: number, extra = 0, perText = 8): number => {
  let sum = 0;
  for (const t of texts) sum += Math.min(maxTokens, Buffer.byteLength(t, "utf8") + extra + perText);
  return sum;
};
