import { isUtf8 } from "node:buffer";
import { setMaxListeners } from "node:events";
import { Transport, TransportError, header } from "./transport";
import { errorCode } from "../../common/error-code";
import type { RetryPolicy } from "../../../components/contracts/verify-target";

/**
 * The verifier's HTTP layer: one request with a per-attempt timeout, bounded retries with backoff for transient
 * failures only, `Retry-After` honoured up to a cap, and an overall deadline that aborts everything in flight.
 * Every failure becomes an HttpFailure whose message says what came back (status, HTML page title, body excerpt,
 * refused connection, timeout, a redirect and where to, a body too large), so checks can print "expected ..., got ...".
 */

type FailureKind = "refused" | "network" | "timeout" | "deadline" | "status" | "redirect" | "too-large" | "body";

export class HttpFailure extends Error {
  override readonly name = "HttpFailure";
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly attempts: number,
    readonly status?: number,
    /** The server's Retry-After header, when it sent one. */
    readonly retryAfter?: string | null,
  ) {
    super(message);
  }
}

/** The overall budget of a verification run; its signal aborts every request still in flight when it expires. */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  /** Read on every request of a load: a field, not the signal's getter. */
  private done = false;
  readonly endsAt: number;

  constructor(readonly budgetMs: number) {
    // Every request in flight listens on this signal (a load at concurrency 64 means 64 listeners): no cap.
    setMaxListeners(0, this.controller.signal);
    this.endsAt = Date.now() + budgetMs;
    this.timer = setTimeout(() => {
      this.done = true;
      this.controller.abort();
    }, budgetMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get expired(): boolean {
    // The timer sets the flag at the deadline; no clock read per request.
    return this.done;
  }
  remainingMs(): number {
    return Math.max(0, this.endsAt - Date.now());
  }
  dispose(): void {
    clearTimeout(this.timer);
  }
}

export interface HttpOptions {
  readonly apiKey?: string;
  /** The connection pool every call of a target shares (EngineClient makes one when absent). */
  readonly transport?: Transport;
  /** Budget of one attempt (connect + headers + body). */
  readonly requestTimeoutMs: number;
  readonly retry: RetryPolicy;
  readonly deadline: Deadline;
}

interface HttpResult {
  readonly status: number;
  /** Parsed JSON (undefined for an empty body). */
  readonly body: unknown;
  readonly attempts: number;
  /** Wall time of the whole call, retries and waits included. */
  readonly ms: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 2,
  baseBackoffMs: 250,
  maxBackoffMs: 4000,
  retryAfterCapMs: 10_000,
};

/** Statuses worth another attempt: the server may answer differently in a moment. 4xx other than these never are. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Backoff before retry number `retry` (1-based), honouring Retry-After (seconds or HTTP date) up to the cap. */
export function retryDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfter?: string | null,
  random = Math.random,
): number {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, policy.retryAfterCapMs);
  }
  const base = Math.min(policy.baseBackoffMs * 2 ** (retry - 1), policy.maxBackoffMs);
  return base * (1 - random() * 0.25);
}

/** "fetch failed" says nothing; the innermost cause says why (e.g. "bad port", "getaddrinfo ENOTFOUND"). */
function rootMessage(error: unknown): string {
  const messages: string[] = [];
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const m = (e as { message?: unknown }).message;
    if (typeof m === "string" && m && !messages.includes(m)) messages.push(m);
  }
  return messages.join(": ") || String(error);
}

/** Classifies a failed attempt (a TransportError, or anything a transport threw). */
export function connectionFailure(
  error: unknown,
  url: string,
  attempts: number,
  deadline: Deadline,
  timeoutMs: number,
): HttpFailure {
  if (deadline.signal.aborted || (error instanceof TransportError && error.reason === "deadline"))
    return new HttpFailure(
      "deadline",
      `overall timeout of ${deadline.budgetMs} ms reached while calling ${url}`,
      attempts,
    );
  if (error instanceof TransportError && error.reason === "too-large")
    return new HttpFailure("too-large", error.message, attempts);
  const name = (error as { name?: string }).name;
  if (
    (error instanceof TransportError && error.reason === "timeout") ||
    name === "TimeoutError" ||
    name === "AbortError"
  ) {
    return new HttpFailure("timeout", `no complete response within ${timeoutMs} ms from ${url}`, attempts);
  }
  const code = errorCode(error);
  if (code === "ECONNREFUSED")
    return new HttpFailure("refused", `connection refused by ${url} (nothing listens there)`, attempts);
  return new HttpFailure("network", `network error calling ${url}: ${code ?? rootMessage(error)}`, attempts);
}

const HTML = /^\s*<(!doctype|html|head|body|title)\b/i;

/** A short excerpt of a body for messages: an HTML page is named by its <title>. */
function excerpt(text: string, max = 120): string {
  if (HTML.test(text)) {
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim() || /<h1>([^<]*)<\/h1>/i.exec(text)?.[1]?.trim();
    return `an HTML page${title ? ` "${title}"` : ""}`;
  }
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "an empty body";
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}...` : flat);
}

/** A bare NaN/Infinity token in value position (a fresh RegExp per use: the /g flag carries state). */
const nonfiniteToken = () => /([[,:]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g;
/** Marker for a non-finite number inside the re-quoted body (JSON strings cannot hold raw control characters). */
const NONFINITE_PREFIX = "__retrieval_stack_nonfinite__:";

/**
 * Parses a response body. JSON cannot encode NaN or Infinity, but Python's `json.dumps` writes them bare; such a
 * body is read with those values kept (so the finiteness check can say where they are) instead of failing as
 * "malformed". HTML pages and broken JSON throw HttpFailure("body").
 */
export function readJson(text: string, status: number, attempts: number, where: string): unknown {
  if (text === "" || /^\s*$/.test(text)) return undefined;
  if (HTML.test(text))
    throw new HttpFailure(
      "body",
      `HTTP ${status} from ${where} with ${excerpt(text)} instead of JSON`,
      attempts,
      status,
    );
  try {
    return JSON.parse(text);
  } catch (error) {
    if (nonfiniteToken().test(text)) {
      try {
        const quoted = text.replace(
          nonfiniteToken(),
          (_m, pre: string, tok: string) => `${pre}"${NONFINITE_PREFIX}${tok}"`,
        );
        return JSON.parse(quoted, (_k, v: unknown) =>
          typeof v === "string" && v.startsWith(NONFINITE_PREFIX) ? Number(v.slice(NONFINITE_PREFIX.length)) : v,
        );
      } catch {
        // fall through to the malformed report
      }
    }
    throw new HttpFailure(
      "body",
      `HTTP ${status} from ${where} with malformed JSON (${(error as Error).message}): ${excerpt(text)}`,
      attempts,
      status,
    );
  }
}

/** The message for a non-2xx answer: status and what the server said (its JSON `message`/`error`, or the excerpt). */
export function statusMessage(status: number, statusText: string, text: string, where: string): string {
  let said = excerpt(text);
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const inner = (json.error as Record<string, unknown> | undefined) ?? json;
    const msg = typeof inner === "string" ? inner : (inner.message ?? json.detail ?? json.error);
    if (msg !== undefined) said = JSON.stringify(typeof msg === "string" ? msg : msg);
  } catch {
    // not JSON: keep the excerpt
  }
  return `HTTP ${status}${statusText ? ` ${statusText}` : ""} from ${where}: ${said}`;
}

function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

async function sleep(ms: number, deadline: Deadline): Promise<void> {
  if (ms <= 0) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      deadline.signal.removeEventListener("abort", done);
      resolve();
    }
    deadline.signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails for good, runs out of retries or the deadline would pass during the
 * next wait. `attempt` throws HttpFailure; `retryAfter` on it (when set) is the server's hint.
 */
async function withRetries<T>(
  policy: RetryPolicy,
  deadline: Deadline,
  attempt: (n: number) => Promise<T>,
  isTransient: (failure: HttpFailure) => boolean,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      if (n > policy.maxRetries || !isTransient(error) || deadline.expired) throw error;
      const wait = retryDelayMs(n, policy, error.retryAfter);
      if (wait >= deadline.remainingMs()) throw error;
      await sleep(wait, deadline);
    }
  }
}

export function isTransientFailure(failure: HttpFailure): boolean {
  if (failure.kind === "refused" || failure.kind === "network" || failure.kind === "timeout") return true;
  return failure.kind === "status" && failure.status !== undefined && isTransientStatus(failure.status);
}

/** A request built once and sent any number of times (the load sends the same one thousands of times). */
interface PreparedRequest {
  readonly url: string;
  /** For messages: the path alone. */
  readonly path: string;
  readonly method: "GET" | "POST";
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** `body` undefined sends a GET. */
export function prepareRequest(baseUrl: string, path: string, body: unknown, apiKey?: string): PreparedRequest {
  return {
    url: joinUrl(baseUrl, path),
    path,
    method: body === undefined ? "GET" : "POST",
    headers: {
      accept: "application/json",
      // Compressed answers are decoded (and capped) if a server sends them anyway; we never ask for them.
      "accept-encoding": "identity",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...authHeaders(apiKey),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** A prepared request with the options' retries (none: a single attempt, no retry bookkeeping). */
export function sendJson(request: PreparedRequest, options: HttpOptions, parse = true): Promise<HttpResult> {
  const started = performance.now();
  if (options.retry.maxRetries === 0)
    return once(request, options, 1, parse).then((r) => ({
      status: r.status,
      body: r.body,
      attempts: 1,
      ms: performance.now() - started,
    }));
  return sendWithRetries(request, options, parse, started);
}

async function sendWithRetries(
  request: PreparedRequest,
  options: HttpOptions,
  parse: boolean,
  started: number,
): Promise<HttpResult> {
  let attempts = 0;
  const result = await withRetries(
    options.retry,
    options.deadline,
    (n) => {
      attempts = n;
      return once(request, options, n, parse);
    },
    isTransientFailure,
  );
  return { ...result, attempts, ms: performance.now() - started };
}

/** One JSON request with retries. `body` undefined sends a GET. */
export function requestJson(baseUrl: string, path: string, body: unknown, options: HttpOptions): Promise<HttpResult> {
  return sendJson(prepareRequest(baseUrl, path, body, options.apiKey), options);
}

/** A 3xx is never followed: the verifier judges the server it was pointed at, with the key it was given. */
export function redirectFailure(
  status: number,
  statusText: string,
  location: string | undefined,
  path: string,
  attempt: number,
) {
  return new HttpFailure(
    "redirect",
    `HTTP ${status}${statusText ? ` ${statusText}` : ""} from ${path} redirects to ${location ?? "(no Location header)"}: not followed (the verifier checks only the URL it was given; use the final URL)`,
    attempt,
    status,
  );
}

/** A body that starts and ends like a JSON object or list (the load's cheap check; readJson says what else it is). */
function looksLikeJson(bytes: Buffer): boolean {
  const first = bytes[0];
  const last = bytes[bytes.length - 1];
  return (first === 123 && last === 125) || (first === 91 && last === 93); // {...} or [...]
}

/**
 * One attempt. Written with `.then` rather than async/await: the load sends thousands of these, and every async
 * layer is one more promise and microtask hop per request.
 */
function once(
  request: PreparedRequest,
  options: HttpOptions,
  attempt: number,
  parse = true,
): Promise<{ status: number; body: unknown }> {
  const { deadline, requestTimeoutMs } = options;
  const { url, path } = request;
  if (!options.transport)
    return Promise.reject(new Error("requests need options.transport (EngineClient provides one)"));
  if (deadline.expired)
    return Promise.reject(
      new HttpFailure(
        "deadline",
        `overall timeout of ${deadline.budgetMs} ms reached before calling ${url}`,
        attempt - 1,
      ),
    );
  return options.transport
    .send(url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      timeoutMs: requestTimeoutMs,
      abortOn: deadline.signal,
      skimOk: !parse,
    })
    .then(
      (response) => {
        const { status, statusText } = response;
        if (status >= 300 && status < 400)
          throw redirectFailure(status, statusText, header(response.headers, "location"), path, attempt);
        if (status < 200 || status >= 300)
          throw new HttpFailure(
            "status",
            statusMessage(status, statusText, response.text, path),
            attempt,
            status,
            header(response.headers, "retry-after"),
          );
        if (!parse) {
          if (looksLikeJson(response.bytes)) return { status, body: undefined };
          throw new HttpFailure(
            "body",
            `HTTP ${status} from ${path} with a body that is not a JSON object or list`,
            attempt,
            status,
          );
        }
        if (!isUtf8(response.bytes)) throw notUtf8(response.bytes, status, attempt, path);
        return { status, body: readJson(response.text, status, attempt, path) };
      },
      (error: unknown) => {
        throw connectionFailure(error, url, attempt, deadline, requestTimeoutMs);
      },
    );
}

/** Offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF); -1 if none. */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0) return i;
    for (let k = 1; k <= n; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    const d = b[i + 1]!;
    if ((c === 0xe0 && d < 0xa0) || (c === 0xed && d > 0x9f) || (c === 0xf0 && d < 0x90) || (c === 0xf4 && d > 0x8f))
      return i;
    i += n + 1;
  }
  return -1;
}

/**
 * JSON between systems must be UTF-8 (RFC 8259 section 8.1). Decoding anything else would turn the bad bytes
 * into U+FFFD and report a confusing "field absent" further on: say what it is instead.
 */
function notUtf8(bytes: Buffer, status: number, attempt: number, path: string): HttpFailure {
  const at = firstInvalidUtf8(bytes);
  const around = bytes.subarray(Math.max(0, at - 8), at + 8).toString("hex");
  return new HttpFailure(
    "body",
    `HTTP ${status} from ${path} with a body that is not valid UTF-8 (byte ${at} of ${bytes.length} is 0x${bytes[at]!.toString(16).padStart(2, "0")}; bytes around it: ${around}): JSON answers must be UTF-8, so the engine or a proxy in front of it is sending another encoding`,
    attempt,
    status,
  );
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}
