import { describeError, type EngineClient } from "../client";
import type { RetryPolicy } from "../../../../components/contracts/verify-target";
import { runLoad, summarise, withInstantServer, type LoadResult, type LoadSummary } from "../load";
import type { CheckResult } from "../report";
import { RERANK_EXAMPLE, SINGLE_TEXT } from "../request-texts";
import { runCheck, skipped, type CheckContext } from "./context";

/**
 * The generator's own median cost (same client, same parser, against an instant local server) may be at most
 * this share of the SLO: then what the load measured is the engine, not us. The median, not p99: on a busy
 * machine the generator's tail is scheduler noise that the engine's measurement shares anyway.
 */
const LOADGEN_SHARE_OF_SLO = 0.1;
/** Each load request is sent once: a retried request would hide an error and stretch a latency. */
const NO_RETRY: RetryPolicy = { maxRetries: 0, baseBackoffMs: 0, maxBackoffMs: 0, retryAfterCapMs: 0 };

const ms = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n)} ms` : "n/a");
const line = (s: LoadSummary) =>
  `p50 ${ms(s.p50)} · p95 ${ms(s.p95)} · p99 ${ms(s.p99)}, ${Math.round(s.perSecond)} req/s`;

/** The smallest real request of the task (one embedding, or the rerank example), built once and sent many times. */
function taskCall(ctx: CheckContext, client: EngineClient): () => Promise<unknown> {
  return client.loadCall(
    ctx.target.task === "embed"
      ? { embed: SINGLE_TEXT, dimensions: ctx.target.requestDimensions }
      : { query: RERANK_EXAMPLE.query, documents: RERANK_EXAMPLE.documents },
  );
}

function errorList(load: LoadResult): string {
  const parts = [...load.errors].map(([msg, n]) => `${n}× ${msg}`);
  if (load.notSent) parts.push(`${load.notSent} not sent (overall timeout)`);
  return parts.join("; ");
}

/**
 * A short closed-loop load (options.requests at options.concurrency) with p50/p95/p99 checked against the
 * model's SLO and errors counted; then the same load, through the same client code, against an instant local
 * server replaying the engine's own answer: what the generator itself adds, shown against the SLO.
 */
export async function latencyChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const { options, target, deadline } = ctx;
  const { requests, concurrency } = options;
  const loadClient = ctx.client.withHttp({ retry: NO_RETRY });
  const slo = target.sloP99Ms;
  const results: CheckResult[] = [];
  let load: LoadResult | undefined;
  let summary: LoadSummary | undefined;

  const p99Expected = slo
    ? `p99 ≤ ${slo} ms (SLO) over ${requests} requests at concurrency ${concurrency}`
    : `p50/p95/p99 over ${requests} requests at concurrency ${concurrency} (no SLO given)`;
  results.push(
    await runCheck(ctx, "latency.p99", p99Expected, async () => {
      await taskCall(ctx, ctx.client)(); // warm-up (with retries): connection pool, lazy engine paths; its body feeds the calibration
      load = await runLoad(taskCall(ctx, loadClient), requests, concurrency, deadline, describeError);
      summary = summarise(load);
      if (summary.ok === 0) return { pass: false, got: "no request succeeded (see latency.errors)" };
      return { pass: slo === undefined || summary.p99 <= slo, got: line(summary) };
    }),
  );

  const errorsExpected = `0 failed of ${requests}`;
  if (!load || !summary)
    results.push(skipped(ctx, "latency.errors", errorsExpected, "the warm-up request failed (see latency.p99)"));
  else {
    const [l, s] = [load, summary];
    results.push(
      await runCheck(ctx, "latency.errors", errorsExpected, () => ({
        pass: s.failed === 0,
        got: s.failed === 0 ? errorsExpected : `${s.failed} failed: ${errorList(l)}`,
      })),
    );
  }

  if (options.checkLoadGenerator === false) return results;
  const budget = slo ? LOADGEN_SHARE_OF_SLO * slo : undefined;
  const genExpected = budget
    ? `load generator's own p50 ≤ ${ms(budget)} (${LOADGEN_SHARE_OF_SLO * 100} % of SLO)`
    : "load generator's own cost (no SLO given)";
  if (ctx.client.lastBody === undefined || !summary)
    results.push(skipped(ctx, "latency.loadgen", genExpected, "no engine answer to replay"));
  else {
    const target = summary;
    // Non-finite values (reported by their own check) would not survive JSON: replay them as 0.
    const body = JSON.stringify(ctx.client.lastBody, (_k, v: unknown) =>
      typeof v === "number" && !Number.isFinite(v) ? 0 : v,
    );
    results.push(
      await runCheck(ctx, "latency.loadgen", genExpected, async () => {
        const own = summarise(
          await withInstantServer(body, (url) =>
            runLoad(taskCall(ctx, loadClient.withBaseUrl(url)), requests, concurrency, deadline, describeError),
          ),
        );
        const pass = own.failed === 0 && (budget === undefined || own.p50 <= budget);
        // Same client, parser and concurrency against an instant local server replaying the engine's answer.
        const failed = own.failed ? `, ${own.failed} failed` : "";
        return {
          pass,
          got: `p50 ${ms(own.p50)} · p99 ${ms(own.p99)} (${Math.round(own.perSecond)} req/s${failed}) vs engine ${Math.round(target.perSecond)} req/s`,
        };
      }),
    );
  }
  return results;
}
