/**
 * The ingress's own limits, proven on the public path (targets with `edge`, after every other check so a burst
 * never slows them):
 *
 * - edge.body-limit: a POST announcing a body 1 KiB over the route's limit must get the ingress's 413 page, from the
 *   headers alone (NGINX compares Content-Length with client_max_body_size before it reads the body, before rate
 *   limits and the key check), so next to nothing is uploaded and no engine sees it. A 413 with another body came
 *   from behind the ingress: the ingress did not enforce its limit.
 * - edge.rate-limit: a burst under a throw-away key must get the ingress's 429 page (rate_limit_error, Retry-After)
 *   before it passes what the route's limit admits (burst + rate x time, summed over the controller pods). NGINX
 *   counts the request before it checks the key (limit_req runs in the preaccess phase, auth_request in access),
 *   so the requests it admits are refused as unauthorized and never reach an engine, and the real key's budget is
 *   untouched. Bounded by publicPathLimits.maxRequests and maxSeconds; it stops at the first 429, then waits (as
 *   long again at most) until the key is admitted again.
 */
import { randomBytes } from "node:crypto";
import type { CheckContext, Verdict } from "./context";
import { runCheck, skipped } from "./context";
import type { CheckResult } from "../report";
import { burstAgent, postAnnounced, postSmall, type RawAnswer } from "../edge-http";
import {
  DEFAULT_PUBLIC_PATH_LIMITS,
  type EdgePage,
  type PublicEdge,
} from "../../../../components/contracts/verify-target";

/** Connections the burst uses at once. */
const BURST_CONCURRENCY = 16;
/** How far over the limit's own allowance the body probe goes. */
const OVER_BY_BYTES = 1024;

const count = (n: number) => n.toLocaleString("en-US");

/** The URL the task endpoint answers at on the public path, and a small valid request for it. */
function endpoint(ctx: CheckContext): { url: string; body: string } {
  const { dialect, baseUrl, servedModel } = ctx.client;
  if (ctx.target.task === "embed" && dialect.embed)
    return {
      url: `${baseUrl}${dialect.embed.path(servedModel)}`,
      body: JSON.stringify(dialect.embed.build({ model: servedModel, inputs: ["ping"] })),
    };
  return {
    url: `${baseUrl}${dialect.rerank!.path(servedModel)}`,
    body: JSON.stringify(dialect.rerank!.build({ model: servedModel, query: "ping", documents: ["pong"] })),
  };
}

/** Whether `answer` carries exactly the ingress's answer `page` (status, JSON body, headers). */
function mismatch(answer: RawAnswer, page: EdgePage): string | undefined {
  if (answer.status !== page.status) return `HTTP ${answer.status}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `HTTP ${answer.status} with a body that is not the ingress's JSON error: ${snippet(answer.body)}`;
  }
  if (JSON.stringify(body) !== JSON.stringify(page.body))
    return `HTTP ${answer.status} with another body than the ingress's: ${snippet(answer.body)}`;
  for (const name of page.headers)
    if (answer.headers[name.toLowerCase()] === undefined)
      return `HTTP ${answer.status} with the ingress's body but no ${name} header`;
  return undefined;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > 160 ? `${flat.slice(0, 160)}...` : flat);
}

const probeKey = () => `rs-edge-probe-${randomBytes(12).toString("hex")}`;

export async function edgeChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const edge = ctx.target.edge;
  if (!edge) return [];
  const limits = ctx.options.publicPathLimits ?? DEFAULT_PUBLIC_PATH_LIMITS;
  const rows: CheckResult[] = [];
  const { url, body } = endpoint(ctx);

  const bodyExpected = `HTTP 413 from the ingress with its JSON error for a body ${count(OVER_BY_BYTES)} bytes over the route's ${edge.maxBodySize} limit`;
  rows.push(
    limits.bodySize
      ? await runCheck(ctx, "edge.body-limit", bodyExpected, () => bodyLimit(ctx, url, edge))
      : skipped(ctx, "edge.body-limit", bodyExpected, "turned off (verification.publicPathLimits.bodySize: false)"),
  );

  const rate = edge.rateLimit;
  const rateExpected = rate
    ? `a burst under one key over ${rate.requestsPerSecond} r/s + burst ${rate.burst} (${rate.replicas} controller pod(s)) refused with the ingress's 429 (rate_limit_error, Retry-After), then admitted again`
    : "the ingress's 429 over the route's rate limit";
  if (!rate)
    rows.push(
      skipped(
        ctx,
        "edge.rate-limit",
        rateExpected,
        "the ingress answers no 429 of its own on this path (the gateway answers its per-key limits itself)",
      ),
    );
  else if (!limits.rateLimit)
    rows.push(
      skipped(ctx, "edge.rate-limit", rateExpected, "turned off (verification.publicPathLimits.rateLimit: false)"),
    );
  else
    rows.push(
      await runCheck(ctx, "edge.rate-limit", rateExpected, () =>
        rateLimit(ctx, url, body, rate, limits.maxRequests, limits.maxSeconds),
      ),
    );
  return rows;
}

async function bodyLimit(ctx: CheckContext, url: string, edge: PublicEdge): Promise<Verdict> {
  const bytes = edge.maxBodyBytes + OVER_BY_BYTES;
  const answer = await postAnnounced(
    {
      url,
      // A throw-away key: the ingress refuses the size before it looks at keys, and an ingress that does not
      // refuse it then refuses the key instead of handing the body to an engine.
      headers: { authorization: `Bearer ${probeKey()}`, "content-type": "application/json" },
      timeoutMs: ctx.options.requestTimeoutSeconds * 1000,
      signal: ctx.deadline.signal,
    },
    bytes,
  );
  const sent = `${count(answer.sentBytes)} of ${count(bytes)} bytes sent before the answer`;
  const wrong = mismatch(answer, edge.tooLarge);
  if (!wrong) return { pass: true, got: `HTTP 413 from the ingress (its own JSON error page); ${sent}` };
  const fix = `Fix: the ingress must refuse bodies over ${edge.maxBodySize} (ingress.maxBodySize, or the engine's own smaller limit) with its 413 page: check that the controller accepted the VirtualServer (kubectl get virtualserver -A: STATE Valid) and that nothing in front of it (a proxy, a CDN) drops Content-Length or answers for it. To skip: verification.publicPathLimits.bodySize: false`;
  const why =
    answer.status === 413
      ? `a 413 that is not the ingress's: something behind it (the engine or the gateway) refused the body, so the ingress did not enforce its ${edge.maxBodySize} limit`
      : `the ingress let a body over its ${edge.maxBodySize} limit through`;
  return { pass: false, got: `${wrong}: ${why} (${sent}). ${fix}` };
}

async function rateLimit(
  ctx: CheckContext,
  url: string,
  body: string,
  rate: NonNullable<PublicEdge["rateLimit"]>,
  maxRequests: number,
  maxSeconds: number,
): Promise<Verdict> {
  const key = probeKey();
  const headers = { authorization: `Bearer ${key}` };
  const timeoutMs = ctx.options.requestTimeoutSeconds * 1000;
  const agent = burstAgent(url, BURST_CONCURRENCY);
  const request = () => postSmall({ url, headers, timeoutMs, signal: ctx.deadline.signal, agent }, body);
  /** What the limit admits by `seconds` after the first request: burst + rate x time, plus one per pod (its first). */
  const allowance = (seconds: number) => rate.burst + rate.replicas + rate.requestsPerSecond * seconds;
  // A few requests of slack for rounding in the pods' counters (they count in milliseconds and whole requests).
  const slack = rate.replicas + 2;
  const byStatus = new Map<number, number>();
  let sent = 0;
  /** Answers other than 429: what the limit let through (requests still in flight are not counted yet). */
  let admitted = 0;
  let refused: RawAnswer | undefined;
  let admittedWrongly: RawAnswer | undefined;
  let unexpected: RawAnswer | undefined;
  let overAllowance = false;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  try {
    const worker = async () => {
      while (!refused && !overAllowance && sent < maxRequests && elapsed() < maxSeconds && !ctx.deadline.expired) {
        sent++;
        const a = await request();
        byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
        const ok = a.status >= 200 && a.status < 300;
        if (a.status === 429) refused ??= a;
        // Keys checked: what the limit admits is refused as unauthorized (the throw-away key).
        else if (rate.perKey) {
          if (ok) admittedWrongly ??= a;
          else if (a.status !== 401) unexpected ??= a;
        }
        // No keys (local only): what the limit admits reaches the engine, a one-word request.
        else if (!ok) unexpected ??= a;
        if (a.status !== 429) admitted++;
        if (!refused && admitted > allowance(elapsed()) + slack) overAllowance = true;
      }
    };
    await Promise.all(Array.from({ length: BURST_CONCURRENCY }, worker));
    const seconds = elapsed();
    const tally = [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${count(n)} x ${s}`)
      .join(", ");
    const burst = `${count(sent)} requests in ${seconds.toFixed(1)} s (${tally})`;
    const limitText = `${rate.requestsPerSecond} r/s + burst ${rate.burst} over ${rate.replicas} controller pod(s)`;
    const fix = `Fix: the route's rate-limit Policy must be attached and accepted (kubectl get policy -A: STATE Valid), with the VirtualServer's 429 error page, and a proxy in front of the ingress must keep the Authorization header. To skip: verification.publicPathLimits.rateLimit: false`;
    if (admittedWrongly)
      return {
        pass: false,
        got: `HTTP ${admittedWrongly.status} for a key the stack never issued: the ingress admitted it (${burst}). Fix: the route's apiKey Policy must be attached`,
      };
    if (!refused) {
      if (overAllowance || admitted > allowance(seconds) + slack)
        return {
          pass: false,
          got: `no 429 from the ingress: ${burst}, ${count(admitted)} of them let through while its limit of ${limitText} admits at most ${count(Math.floor(allowance(seconds)))} by then; the rate limit is not enforced. ${fix}`,
        };
      return {
        pass: true,
        skip: true,
        got: `inconclusive: ${burst} (${(sent / Math.max(seconds, 0.001)).toFixed(0)} r/s) never went past what ${limitText} admits; raise verification.publicPathLimits.maxRequests or maxSeconds, or run from a faster network`,
      };
    }
    const wrong = mismatch(refused, rate.page);
    if (wrong)
      return {
        pass: false,
        got: `${wrong}: the 429 is not the ingress's page (${burst}). ${fix}`,
      };
    if (unexpected)
      return {
        pass: false,
        got: `besides ${rate.perKey ? "401" : "2xx"} and 429, HTTP ${unexpected.status} ${snippet(unexpected.body)} during the burst (${burst})`,
      };
    const cleared = await waitOut(request, maxSeconds);
    if (cleared === undefined)
      return {
        pass: false,
        got: `429 after ${burst}, but the key was still refused ${maxSeconds} s later: the limit does not clear at ${rate.requestsPerSecond} r/s. ${fix}`,
      };
    return {
      pass: true,
      got: `429 from the ingress (rate_limit_error, Retry-After ${String(refused.headers["retry-after"])}) after ${burst}; admitted again after ${cleared.toFixed(1)} s`,
    };
  } finally {
    agent.destroy();
  }
}

/** Seconds until a request under the same key is no longer refused, polling at most every 250 ms; undefined at maxSeconds. */
async function waitOut(request: () => Promise<RawAnswer>, maxSeconds: number): Promise<number | undefined> {
  const started = performance.now();
  for (;;) {
    const seconds = (performance.now() - started) / 1000;
    if (seconds > maxSeconds) return undefined;
    if ((await request()).status !== 429) return seconds;
    await new Promise((r) => setTimeout(r, 250));
  }
}
