import type { IncomingHttpHeaders } from "node:http";
import type { Pool } from "undici";
import { EndpointSet } from "./endpoints";
import type { FairQueue } from "./fair-queue";
import { GatewayError, unavailable } from "./errors";

/**
 * Calls to one model's engine pods over keep-alive pools (undici, one Pool per pod). Each call goes to the pod
 * with the least outstanding work (endpoints.ts); each attempt has its own timeout; a refused/reset connection or
 * a 503 is retried on another pod (embed and rerank are idempotent), up to `attempts`; a pod that refused a
 * connection is skipped by the next calls at once. Other answers are returned as they are for the dialect to read.
 */
export interface UpstreamAnswer {
  readonly status: number;
  readonly body: string;
  readonly header: (name: string) => string | undefined;
  readonly upstream: string;
  readonly attempts: number;
}

export interface CallOptions {
  readonly path: string;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
  /** Observes each attempt's duration (histogram per model and upstream). */
  readonly observe?: (upstream: string, seconds: number) => void;
  /** Estimated work of the request (work.ts): what the pods are balanced by. Default 1. */
  readonly work?: number;
  /** The caller's key name, for fair admission. */
  readonly key?: string;
}

/** Network failures that mean "this replica did not take the request": safe to send elsewhere. */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

const codeOf = (e: unknown): string | undefined => {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === "object"; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && code !== "UND_ERR_ABORTED") return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
};

interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * One POST through undici's dispatch API, the body gathered into one string. Cheaper than `pool.request()` (no
 * Readable body stream per call, ~0.015 CPU ms per request on the benchmark); undici's own per-attempt timers:
 * headers within the budget, then no gap longer than it in the body (cheaper than an AbortSignal per request).
 */
function post(
  pool: Pool,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  timeoutMs: number,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    let answerHeaders: IncomingHttpHeaders = {};
    pool.dispatch(
      { path, method: "POST", headers, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
      {
        // undici takes a handler in its current (non-deprecated) form only when it has onRequestStart.
        onRequestStart: () => {},
        onResponseStart: (_controller, statusCode, h) => {
          status = statusCode;
          answerHeaders = h;
        },
        onResponseData: (_controller, chunk) => void chunks.push(chunk),
        onResponseEnd: () =>
          resolve({
            status,
            headers: answerHeaders,
            body: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8"),
          }),
        onResponseError: (_controller, e) => reject(e),
      },
    );
  });
}

function pathOf(cache: Map<string, string>, path: string, base: string): string {
  let p = cache.get(path);
  if (p === undefined) cache.set(path, (p = new URL(path, base).pathname));
  return p;
}

export class UpstreamGroup {
  /** The model's pods (discovered) or its Service (fallback), with their load. */
  readonly endpoints: EndpointSet;
  /** Fair admission between keys (set by ModelRoutes when the model has a per-pod in-flight limit). */
  admission?: FairQueue;

  constructor(
    readonly model: string,
    urls: readonly string[],
    private readonly timeoutMs: number,
    private readonly attempts: number,
  ) {
    this.endpoints = new EndpointSet(urls);
  }

  async call(options: CallOptions): Promise<UpstreamAnswer> {
    const release = this.admission ? await this.admission.acquire(options.key ?? "anonymous") : undefined;
    try {
      return await this.attempt(options);
    } finally {
      release?.();
    }
  }

  private async attempt(options: CallOptions): Promise<UpstreamAnswer> {
    const tries = Math.max(1, this.attempts);
    const work = options.work ?? 1;
    const tried = new Set<string>();
    let last: GatewayError | undefined;
    const body = JSON.stringify(options.body);
    for (let attempt = 1; attempt <= tries; attempt++) {
      // A retry goes to another pod; with one pod (or the Service) it goes to the same one again.
      const ep = this.endpoints.pick(work, tried) ?? this.endpoints.pick(work, new Set());
      if (!ep) throw last ?? unavailable(`${this.model} has no ready replica.`, "no_ready_replica");
      tried.add(ep.url);
      const { url, pool, paths } = ep;
      const began = performance.now();
      this.endpoints.begin(ep, work);
      try {
        const res = await post(
          pool,
          pathOf(paths, options.path, url),
          { "content-type": "application/json", accept: "application/json", ...options.headers },
          body,
          this.timeoutMs,
        );
        options.observe?.(url, (performance.now() - began) / 1000);
        const header = (name: string) => {
          const v = res.headers[name];
          return Array.isArray(v) ? v[0] : v;
        };
        if (res.status === 503 && attempt < tries) {
          last = unavailable(`${this.model} is unavailable (the engine answered 503).`);
          continue;
        }
        return { status: res.status, body: res.body, header, upstream: url, attempts: attempt };
      } catch (e) {
        options.observe?.(url, (performance.now() - began) / 1000);
        const code = codeOf(e);
        const timedOut =
          (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) ||
          code === "UND_ERR_HEADERS_TIMEOUT" ||
          code === "UND_ERR_BODY_TIMEOUT";
        if (timedOut)
          throw new GatewayError(
            504,
            "upstream_error",
            "upstream_timeout",
            `${this.model} did not answer within ${this.timeoutMs / 1000} s.`,
          );
        if (code && CONNECT_CODES.has(code)) {
          if (code === "ECONNREFUSED" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "EHOSTUNREACH")
            this.endpoints.refused(ep);
          last = unavailable(`${this.model} is unavailable (no engine replica accepted the connection).`);
          continue;
        }
        throw unavailable(`${this.model} is unavailable (the call to the engine failed).`);
      } finally {
        this.endpoints.end(ep, work);
      }
    }
    throw last ?? unavailable(`${this.model} is unavailable.`);
  }

  async close(): Promise<void> {
    await this.endpoints.close();
  }
}
