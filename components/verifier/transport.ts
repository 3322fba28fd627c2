import { gunzipSync, inflateSync, brotliDecompressSync } from "node:zlib";
import { Agent } from "undici";

/**
 * The verifier's one HTTP client: an undici Agent (a keep-alive connection pool per origin) shared by every call
 * of one target, and one attempt = one request, one timer, one body read. Why undici and not `fetch`: Node's
 * fetch is undici behind a WHATWG layer (Request/Response/Headers objects, stream adapters, an AbortSignal per
 * call) that cost ~10x the requests/s of `Agent.request` in the load check (scripts/bench-verifier.ts), and it
 * follows redirects and decompresses bodies without limits. Here:
 * - the attempt's timeout is a plain `setTimeout` aborting an AbortController that the timer's closure holds:
 *   nothing garbage collection can take away (an `AbortSignal.timeout()` reachable only through
 *   `AbortSignal.any()` can be collected on Node 20, and its timeout never fires);
 * - the timer covers connect, headers AND body: a server that sends headers and then drips bytes still times out;
 * - bodies are capped on the wire and after decompression (a 200 MB answer or a gzip bomb fails at the cap, in
 *   constant memory, instead of taking the pod past its memory limit);
 * - redirects are never followed (undici's Agent does not follow them): the caller turns a 3xx into a failure
 *   that names the Location.
 */

/** Largest body read from any answer, on the wire and decompressed. A batch of 16 vectors of 4096 floats is ~1.3 MB. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Why an attempt ended without an answer; mapped to HttpFailure kinds by http.ts. */
export class TransportError extends Error {
  override readonly name = "TransportError";
  constructor(
    readonly reason: "timeout" | "deadline" | "too-large" | "network",
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export interface TransportResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The whole body, decoded as UTF-8 (after decompression when the server compressed it anyway). */
  readonly text: string;
}

export interface SendOptions {
  readonly method: "GET" | "POST";
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** Aborts the attempt when it fires (the run's overall deadline). */
  readonly abortOn?: AbortSignal;
}

export interface TransportOptions {
  /** Connections kept per origin (the load check's concurrency; more requests queue). */
  readonly connections?: number;
  readonly maxBodyBytes?: number;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** Decompresses a body a server compressed although we asked for identity; the output is capped. */
function decode(raw: Buffer, encoding: string | undefined, max: number, url: string): Buffer {
  const enc = (encoding ?? "identity").trim().toLowerCase();
  if (enc === "identity" || enc === "") return raw;
  const opts = { maxOutputLength: max };
  try {
    if (enc === "gzip" || enc === "x-gzip") return gunzipSync(raw, opts);
    if (enc === "deflate") return inflateSync(raw, opts);
    if (enc === "br") return brotliDecompressSync(raw, opts);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError)
      throw new TransportError(
        "too-large",
        `the ${enc} body from ${url} expands past ${mib(max)} (a ${raw.length}-byte answer; stopped reading)`,
      );
    throw new TransportError("network", `the ${enc} body from ${url} does not decompress: ${(error as Error).message}`);
  }
  throw new TransportError("network", `the body from ${url} has an unsupported content-encoding "${enc}"`);
}

export class Transport {
  private readonly agent: Agent;
  readonly maxBodyBytes: number;

  constructor(options: TransportOptions = {}) {
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.agent = new Agent({ connections: options.connections ?? 64, keepAliveTimeout: 10_000, pipelining: 1 });
  }

  /** One attempt. Throws TransportError; every HTTP status (3xx included) is a response. */
  async send(url: string, o: SendOptions): Promise<TransportResponse> {
    const u = new URL(url);
    const controller = new AbortController();
    let why: "timeout" | "deadline" | undefined;
    // Held by the timer list until cleared: cannot be collected while the attempt runs.
    const timer = setTimeout(() => {
      why = "timeout";
      controller.abort();
    }, o.timeoutMs);
    const onDeadline = () => {
      why = "deadline";
      controller.abort();
    };
    if (o.abortOn?.aborted) onDeadline();
    o.abortOn?.addEventListener("abort", onDeadline, { once: true });
    try {
      const res = await this.agent.request({
        origin: u.origin,
        path: `${u.pathname}${u.search}`,
        method: o.method,
        headers: o.headers,
        body: o.body,
        signal: controller.signal,
      });
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > this.maxBodyBytes) {
        res.body.destroy();
        throw new TransportError(
          "too-large",
          `the body from ${url} is ${mib(declared)} (content-length), more than the ${mib(this.maxBodyBytes)} the verifier reads`,
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          res.body.destroy();
          throw new TransportError(
            "too-large",
            `the body from ${url} passed ${mib(this.maxBodyBytes)} (the most the verifier reads); stopped reading`,
          );
        }
        chunks.push(chunk);
      }
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const encoding = res.headers["content-encoding"];
      const text = decode(
        raw,
        Array.isArray(encoding) ? encoding.join(",") : encoding,
        this.maxBodyBytes,
        url,
      ).toString("utf8");
      return { status: res.statusCode, statusText: res.statusText ?? "", headers: res.headers, text };
    } catch (error) {
      if (error instanceof TransportError) throw error;
      if (why === "timeout") throw new TransportError("timeout", `no complete response within ${o.timeoutMs} ms`);
      if (why === "deadline") throw new TransportError("deadline", "overall deadline reached");
      throw new TransportError("network", (error as Error).message, error);
    } finally {
      clearTimeout(timer);
      o.abortOn?.removeEventListener("abort", onDeadline);
    }
  }

  /** Closes the pool's connections (the target's checks are done). */
  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

/** A header as one string (undici gives repeated headers as a list). */
export function header(headers: TransportResponse["headers"], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
