import type * as http from "node:http";
import { isoNow, type AuditSink } from "./audit";
import type { RequestContext } from "./context";
import { API_HEADERS } from "./security-headers";
import type { GatewayError } from "./errors";
import type { BoundedLabel } from "./labels";
import type { GatewayMetrics } from "./metrics";

/**
 * The last stage of every API request: the JSON answer, then its request metrics and its audit line (one per
 * request, whatever the outcome). Probes and plain errors outside the API (`plainError`) have neither.
 */
export class Responder {
  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly audit: AuditSink,
    private readonly modelLabel: BoundedLabel,
    private readonly keyLabel: BoundedLabel,
  ) {}

  send(
    res: http.ServerResponse,
    status: number,
    payload: unknown,
    ctx: RequestContext,
    headers: Readonly<Record<string, string>> = {},
  ): void {
    const text = JSON.stringify(payload);
    const bytesOut = Buffer.byteLength(text);
    res
      .writeHead(status, { ...API_HEADERS, "content-type": "application/json", "content-length": bytesOut, ...headers })
      .end(text);
    const seconds = (performance.now() - ctx.started) / 1000;
    const model = ctx.model ? this.modelLabel.of(ctx.model) : "unknown";
    const key = ctx.caller ? this.keyLabel.of(ctx.caller.name) : "unauthenticated";
    this.metrics.requests.inc({ key, model, route: ctx.route, status: String(status) });
    this.metrics.duration.observe({ model, route: ctx.route }, seconds);
    // One object shape for every line (absent fields are undefined, which JSON leaves out).
    this.audit({
      time: isoNow(),
      request_id: ctx.id,
      traceparent: ctx.traceparent,
      key: ctx.caller?.name ?? "unauthenticated",
      model: ctx.model,
      served_by: ctx.servedBy !== ctx.model ? ctx.servedBy : undefined,
      route: ctx.route,
      status,
      latency_ms: Math.round(seconds * 100000) / 100,
      bytes_in: ctx.bytesIn,
      bytes_out: bytesOut,
      upstream: ctx.upstream,
      attempts: ctx.attempts,
      cache: ctx.cache,
      inputs: ctx.inputs,
      documents: ctx.documents,
      input_tokens: ctx.inputTokens,
      error: ctx.error,
    });
  }
}

/** An error outside the API (an unknown route, /v1/models without a key): no metrics, no audit line. */
export function plainError(res: http.ServerResponse, err: GatewayError): void {
  res
    .writeHead(err.status, { ...API_HEADERS, "content-type": "application/json", ...err.headers })
    .end(JSON.stringify(err.body()));
}
