import type * as http from "node:http";
import { randomFillSync, randomUUID } from "node:crypto";
import type { Caller } from "./auth";
import type { Reservation } from "./limits";

/** One request's state; the fields after `route` are filled along the way (most end up in the audit line). */
export interface RequestContext {
  readonly id: string;
  readonly traceparent: string;
  readonly started: number;
  readonly route: string;
  caller: Caller | undefined;
  model: string;
  servedBy: string | undefined;
  bytesIn: number;
  upstream: string | undefined;
  attempts: number | undefined;
  cache: "hit" | "miss" | undefined;
  inputs: number | undefined;
  documents: number | undefined;
  inputTokens: number | undefined;
  error: string | undefined;
  /** Bytes of this request held in the instance's budget (body, answer); given back when it ends. */
  held: number;
  /** The quota reserved at admission; settled to the usage when served, refunded otherwise. */
  reservation: Reservation | undefined;
  /** What a served request used (set by its handler): counted in metrics and charged to the quota. */
  usage: Usage | undefined;
  /** The client's address (X-Forwarded-For only from a trusted proxy). */
  client: string;
}

interface Usage {
  readonly model: string;
  readonly tokens: number | undefined;
  readonly inputs?: number;
  readonly documents?: number;
}

/**
 * A new W3C trace context (version 00, sampled): trace id and span id from a pool of random bytes refilled every
 * 256 requests (one randomFillSync instead of two UUIDs and a regex per request).
 */
const TRACE_BYTES = 24;
const traceEntropy = Buffer.allocUnsafe(TRACE_BYTES * 256);
let traceAt = traceEntropy.length;
function newTraceparent(): string {
  if (traceAt + TRACE_BYTES > traceEntropy.length) {
    randomFillSync(traceEntropy);
    traceAt = 0;
  }
  const at = traceAt;
  traceAt += TRACE_BYTES;
  return `00-${traceEntropy.toString("hex", at, at + 16)}-${traceEntropy.toString("hex", at + 16, at + TRACE_BYTES)}-01`;
}
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const REQUEST_ID = /^[\w.:\-]{1,128}$/;

/** The context of a new request: the caller's request id and trace context when well-formed, else fresh ones. */
export function newContext(req: http.IncomingMessage, client: string): RequestContext {
  const rid = req.headers["x-request-id"];
  const tp = req.headers.traceparent;
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  return {
    id: typeof rid === "string" && REQUEST_ID.test(rid) ? rid : randomUUID(),
    traceparent: typeof tp === "string" && TRACEPARENT.test(tp) ? tp : newTraceparent(),
    started: performance.now(),
    route: query < 0 ? url : url.slice(0, query),
    caller: undefined,
    model: "",
    servedBy: undefined,
    bytesIn: 0,
    upstream: undefined,
    attempts: undefined,
    cache: undefined,
    inputs: undefined,
    documents: undefined,
    inputTokens: undefined,
    error: undefined,
    held: 0,
    reservation: undefined,
    usage: undefined,
    client,
  };
}
