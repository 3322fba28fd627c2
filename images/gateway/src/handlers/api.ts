import type * as http from "node:http";
import type { Admission } from "../admission";
import type { RequestContext } from "../context";
import type { EngineCall } from "../engine";
import type { GatewayMetrics } from "../metrics";
import type { ModelRoute } from "../model-routes";

/** What an API handler gets: admission (and usage), metrics. */
export interface ApiDeps {
  readonly admission: Admission;
  readonly metrics: GatewayMetrics;
}

/** A POST handler: the parsed body in, the 200 payload out; failures are thrown as GatewayError. */
export type ApiHandler = (body: unknown, req: http.IncomingMessage, ctx: RequestContext) => Promise<unknown>;

/** The headers and the per-attempt observer of one engine call (ids for tracing, duration per upstream). */
export function engineCall(deps: ApiDeps, route: ModelRoute, ctx: RequestContext): EngineCall {
  return {
    headers: { "x-request-id": ctx.id, traceparent: ctx.traceparent },
    ...(ctx.caller ? { key: ctx.caller.name } : {}),
    observe: (upstream: string, seconds: number) =>
      deps.metrics.upstreamDuration.observe({ model: route.model.name, upstream }, seconds),
  };
}
