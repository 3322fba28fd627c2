import { gunzipSync, inflateSync, brotliDecompressSync } from "node:zlib";
import type { Agent as UndiciAgent, Dispatcher } from "undici";

// The Agent alone: undici's index also loads fetch, WebSocket, EventSource and cache stores the verifier never
// uses (the Job's bundle: ~470 KB of undici instead of ~1.1 MB). undici has no "exports" map: the path is public.
const Agent = require("undici/lib/dispatcher/agent") as typeof UndiciAgent;

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
const MAX_BODY_BYTES = 16 * 1024 * 1024;

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

interface TransportResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The whole body (after decompression when the server compressed it anyway). */
  readonly bytes: Buffer;
  /** The body as UTF-8, decoded on first read (the load's cheap path looks at two bytes and never decodes). */
  readonly text: string;
}

interface SendOptions {
  readonly method: "GET" | "POST";
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** Aborts the attempt when it fires (the run's overall deadline). */
  readonly abortOn?: AbortSignal;
  /**
   * A 2xx answer's body is counted (and capped) but not kept: `bytes` holds its first and last byte that are not
   * whitespace only (the load's "complete JSON body" check). Other statuses and compressed bodies are kept whole.
   */
  readonly skimOk?: boolean;
}

interface TransportOptions {
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

type Headers = TransportResponse["headers"];

/**
 * One request in flight: its own dispatch handler, timer and body buffer, in one object (the load creates
 * thousands per second; one object instead of a dozen closures).
 */
class Attempt implements Dispatcher.DispatchHandler {
  settled = false;
  /** The set of attempts the deadline's listener aborts; this one leaves it when settled. */
  watchers?: Set<Attempt>;
  private controller?: Dispatcher.DispatchController;
  private status = 0;
  private statusText = "";
  private headers: Headers = {};
  private size = 0;
  private readonly chunks: Buffer[] = [];
  /** Skimming this body: first and last byte seen. */
  private skim = false;
  private first = -1;
  private last = -1;
  // Held by the timer list until cleared: nothing garbage collection can take away while the attempt runs.
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly max: number,
    private readonly skimOk: boolean,
    private readonly resolve: (r: TransportResponse) => void,
    private readonly reject: (e: Error) => void,
  ) {
    this.timer = setTimeout(Attempt.onTimeout, timeoutMs, this);
  }

  private static onTimeout(attempt: Attempt): void {
    attempt.stop(new TransportError("timeout", `no complete response within ${attempt.timeoutMs} ms`));
  }

  deadline(): void {
    this.stop(new TransportError("deadline", "overall deadline reached"));
  }

  private finish(error: Error | undefined, value?: TransportResponse): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.watchers?.delete(this);
    if (error) this.reject(error);
    else this.resolve(value!);
  }

  private stop(error: TransportError): void {
    if (this.settled) return;
    if (this.controller && !this.controller.aborted) this.controller.abort(error);
    this.finish(error);
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    if (this.settled) c.abort(new TransportError("deadline", "abandoned"));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, h: Headers, message?: string): void {
    this.status = statusCode;
    this.statusText = message ?? "";
    this.headers = h;
    this.skim = this.skimOk && statusCode >= 200 && statusCode < 300 && h["content-encoding"] === undefined;
    const declared = Number(h["content-length"]);
    if (Number.isFinite(declared) && declared > this.max)
      this.stop(
        new TransportError(
          "too-large",
          `the body from ${this.url} is ${mib(declared)} (content-length), more than the ${mib(this.max)} the verifier reads`,
        ),
      );
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.max)
      this.stop(
        new TransportError(
          "too-large",
          `the body from ${this.url} passed ${mib(this.max)} (the most the verifier reads); stopped reading`,
        ),
      );
    else if (!this.skim) this.chunks.push(chunk);
    else {
      // First and last bytes that are not JSON whitespace (a body may end in a newline).
      const ws = (b: number) => b === 32 || b === 10 || b === 13 || b === 9;
      let i = 0;
      if (this.first < 0) {
        while (i < chunk.length && ws(chunk[i]!)) i++;
        if (i < chunk.length) this.first = chunk[i]!;
      }
      let j = chunk.length - 1;
      while (j >= i && ws(chunk[j]!)) j--;
      if (j >= i && this.first >= 0) this.last = chunk[j]!;
    }
  }

  onResponseEnd(): void {
    if (this.settled) return;
    try {
      const { chunks, size, headers } = this;
      if (this.skim) {
        const ends = Buffer.from(this.first < 0 ? [] : [this.first, this.last]);
        return this.finish(undefined, new Response(this.status, this.statusText, headers, ends));
      }
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const enc = headers["content-encoding"];
      const bytes = decode(raw, Array.isArray(enc) ? enc.join(",") : enc, this.max, this.url);
      this.finish(undefined, new Response(this.status, this.statusText, headers, bytes));
    } catch (error) {
      this.finish(error as Error);
    }
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    this.finish(error instanceof TransportError ? error : new TransportError("network", error.message, error));
  }
}

/** A finished answer; the body is decoded to text on first read only. */
class Response implements TransportResponse {
  private decoded?: string;
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
    readonly bytes: Buffer,
  ) {}
  get text(): string {
    return (this.decoded ??= this.bytes.toString("utf8"));
  }
}

export class Transport {
  private readonly agent: UndiciAgent;
  readonly maxBodyBytes: number;
  /** Attempts in flight per abort signal: one listener per signal, not one per request. */
  private readonly watched = new WeakMap<AbortSignal, Set<Attempt>>();
  /** origin + path of every URL seen (the load sends the same URL thousands of times). */
  private readonly split = new Map<string, { origin: string; path: string }>();

  constructor(options: TransportOptions = {}) {
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.agent = new Agent({ connections: options.connections ?? 64, keepAliveTimeout: 10_000, pipelining: 1 });
  }

  private parts(url: string): { origin: string; path: string } {
    let p = this.split.get(url);
    if (!p) {
      const u = new URL(url);
      p = { origin: u.origin, path: `${u.pathname}${u.search}` };
      if (this.split.size < 1000) this.split.set(url, p);
    }
    return p;
  }

  private watch(signal: AbortSignal, attempt: Attempt): Set<Attempt> {
    let set = this.watched.get(signal);
    if (!set) {
      const attempts = new Set<Attempt>();
      signal.addEventListener("abort", () => attempts.forEach((a) => a.deadline()), { once: true });
      this.watched.set(signal, (set = attempts));
    }
    set.add(attempt);
    return set;
  }

  /**
   * One attempt, on undici's lowest-level API (a dispatch handler: no stream objects, no promise per step).
   * Resolves with any HTTP status (3xx included); rejects with TransportError.
   */
  send(url: string, o: SendOptions): Promise<TransportResponse> {
    const { origin, path } = this.parts(url);
    return new Promise<TransportResponse>((resolve, reject) => {
      const attempt = new Attempt(url, o.timeoutMs, this.maxBodyBytes, o.skimOk === true, resolve, reject);
      if (o.abortOn) {
        attempt.watchers = this.watch(o.abortOn, attempt);
        if (o.abortOn.aborted) attempt.deadline();
      }
      if (!attempt.settled)
        this.agent.dispatch({ origin, path, method: o.method, headers: o.headers, body: o.body }, attempt);
    });
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
