import { Pool } from "undici";
import { GatewayError, unavailable } from "./errors";

/**
 * Calls to one model's engine replicas over keep-alive pools (undici, one Pool per replica base URL). Each
 * attempt has its own timeout; a refused/reset connection or a 503 is retried on the next replica (embed and
 * rerank are idempotent), up to `attempts`. Other answers are returned as they are for the dialect to read.
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

export class UpstreamGroup {
  private readonly pools: { url: string; pool: Pool }[];
  private next = 0;

  constructor(
    readonly model: string,
    urls: readonly string[],
    private readonly timeoutMs: number,
    private readonly attempts: number,
  ) {
    this.pools = urls.map((url) => ({
      url,
      pool: new Pool(url, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: 5_000 }),
    }));
  }

  async call(options: CallOptions): Promise<UpstreamAnswer> {
    const start = this.next++ % this.pools.length;
    const tries = Math.max(1, this.attempts);
    let last: GatewayError | undefined;
    for (let attempt = 1; attempt <= tries; attempt++) {
      const { url, pool } = this.pools[(start + attempt - 1) % this.pools.length]!;
      const began = performance.now();
      try {
        const res = await pool.request({
          path: new URL(options.path, url).pathname,
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json", ...options.headers },
          body: JSON.stringify(options.body),
          // Per attempt: headers within the budget, then no gap longer than it in the body (undici's own timers,
          // cheaper than an AbortSignal per request).
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
        const body = await res.body.text();
        options.observe?.(url, (performance.now() - began) / 1000);
        const header = (name: string) => {
          const v = res.headers[name];
          return Array.isArray(v) ? v[0] : v;
        };
        if (res.statusCode === 503 && attempt < tries) {
          last = unavailable(`${this.model} is unavailable (the engine answered 503).`);
          continue;
        }
        return { status: res.statusCode, body, header, upstream: url, attempts: attempt };
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
          last = unavailable(`${this.model} is unavailable (no engine replica accepted the connection).`);
          continue;
        }
        throw unavailable(`${this.model} is unavailable (the call to the engine failed).`);
      }
    }
    throw last ?? unavailable(`${this.model} is unavailable.`);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.pool.close()));
  }
}
