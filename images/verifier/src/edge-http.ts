/**
 * Raw HTTP for the public-path limit checks (checks/edge.ts), on node:http(s) rather than the undici pool: the
 * body-size probe must announce a large Content-Length and stop uploading as soon as the ingress answers (NGINX
 * refuses from the headers), and the rate-limit burst counts every answer, so no retries, no redirects and no
 * body parsing beyond a small cap.
 */
import * as http from "node:http";
import * as https from "node:https";

export interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The body as text, at most BODY_CAP bytes of it. */
  readonly body: string;
  /** Request-body bytes written before the answer came (or all of them). */
  readonly sentBytes: number;
}

/** Error answers are small JSON or HTML pages: anything longer is cut (the checks only compare them). */
const BODY_CAP = 64 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x20);
/** How long to wait for "100 Continue" (or an early answer) before sending the body anyway, as curl does. */
const CONTINUE_WAIT_MS = 1000;

interface RawRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly agent?: http.Agent;
}

const moduleFor = (url: URL) => (url.protocol === "https:" ? https : http);

/** A keep-alive pool of `sockets` connections for a burst against `url`'s origin; destroy() it when done. */
export function burstAgent(url: string, sockets: number): http.Agent {
  const options = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
  return new URL(url).protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
}

/**
 * POST with `Content-Length: bytes` and `Expect: 100-continue`, then a body of spaces in 64 KiB chunks until the
 * server answers: then the upload stops. A server that reads the whole body gets all of it (bounded by `bytes`). Rejects on a
 * connection failure before any answer, or when `timeoutMs` passes without one.
 */
export function postAnnounced(r: RawRequest, bytes: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(r.url);
    let sent = 0;
    let answered = false;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    // Expect: 100-continue: a server that refuses from the headers (NGINX over client_max_body_size) answers at
    // once and no body byte is sent; one that says 100 Continue, or says nothing for a second, gets the body.
    const req = moduleFor(url).request(url, {
      method: "POST",
      headers: { ...r.headers, "content-length": String(bytes), expect: "100-continue" },
      agent: r.agent ?? false,
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${r.timeoutMs / 1000} s (${sent} of ${bytes} bytes sent)`)),
      r.timeoutMs,
    );
    const onAbort = () => req.destroy(new Error("aborted: the overall verification deadline passed"));
    r.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        if (size < BODY_CAP) chunks.push(c.subarray(0, BODY_CAP - size));
        size += c.length;
      });
      const done = () =>
        settle(() => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            sentBytes: sent,
          });
          // Whatever is left of the upload is not sent: the answer is in.
          if (!req.writableFinished) req.destroy();
        });
      res.on("end", done);
      res.on("error", done);
      res.on("close", done);
    });
    // A server that answers early may close while we still write (EPIPE, ECONNRESET): the answer counts.
    req.on("error", (e) => settle(() => (answered ? undefined : reject(e))));
    const pump = () => {
      while (!answered && !req.destroyed && sent < bytes) {
        const n = Math.min(CHUNK.length, bytes - sent);
        sent += n;
        if (!req.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered && !req.destroyed) req.end();
    };
    let pumping = false;
    const start = () => {
      if (pumping) return;
      pumping = true;
      clearTimeout(wait);
      pump();
    };
    req.on("continue", start);
    const wait = setTimeout(start, CONTINUE_WAIT_MS);
    req.on("close", () => clearTimeout(wait));
    req.flushHeaders();
  });
}

/** One small POST through `agent` (keep-alive); the answer's status, headers and (capped) body. */
export function postSmall(r: RawRequest, body: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(r.url);
    const payload = Buffer.from(body);
    const req = moduleFor(url).request(url, {
      method: "POST",
      headers: { ...r.headers, "content-type": "application/json", "content-length": String(payload.length) },
      agent: r.agent ?? false,
      signal: r.signal,
      timeout: r.timeoutMs,
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${r.timeoutMs / 1000} s`)));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        if (size < BODY_CAP) chunks.push(c.subarray(0, BODY_CAP - size));
        size += c.length;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          sentBytes: payload.length,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}
