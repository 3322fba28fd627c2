/**
 * Shadow traffic for rerank candidates: an alias may name a shadow model and a sample rate; a sampled live
 * rerank call is sent again to the shadow after the caller has been answered, and the shadow's order is compared
 * with the primary's (Kendall tau, top-1/3/10 overlap, NDCG@10 against the primary's order). The caller never
 * waits for it and never sees its errors: copies start on a later turn of the event loop, at most
 * `maxInFlight` run at once (more are dropped and counted as "busy"), and one that outlives `timeoutMs` is
 * counted as "timeout" (its slot frees when the engine call really ends). Only numbers leave: no query or
 * document text is logged or labelled. On shutdown the gateway's drain waits for the copies still running, within
 * what is left of its drain budget; those still running at its end are counted as "cut_off" (drain()).
 */
import { agreement, type RankingAgreement } from "../../../components/fingerprint/ranking";
import type { RuntimeConfig } from "../../../components/gateway/runtime-config";
import { rerank, type Scored } from "./engine";
import type { Counter, GatewayMetrics } from "./metrics";
import type { ModelRoutes } from "./model-routes";

interface ShadowConfig {
  /** The shadow model (a deployed rerank model). */
  readonly model: string;
  /** Share of the alias' calls copied, 0..1. */
  readonly sampleRate: number;
  readonly maxInFlight: number;
  readonly timeoutMs: number;
}

interface ShadowMetrics {
  /** Copies by outcome (compared | busy | timeout | failed | cut_off), per alias and shadow. */
  readonly calls: Counter;
  /** Compared copies (the denominator of the agreement means). */
  readonly compared: Counter;
  /** Sum of each agreement measure over the compared copies (measure = kendall_tau | top1 | top3 | top10 | ndcg_at_10). */
  readonly agreementSum: Counter;
}

/** Sends the copy: the shadow's scores for every document (indices into `documents`). */
type ShadowSend = (model: string, query: string, documents: readonly string[]) => Promise<readonly Scored[]>;

const MEASURES: [keyof RankingAgreement, string][] = [
  ["kendallTau", "kendall_tau"],
  ["top1", "top1"],
  ["top3", "top3"],
  ["top10", "top10"],
  ["ndcgAt10", "ndcg_at_10"],
];

const order = (scored: readonly Scored[]) =>
  [...scored].sort((a, b) => b.score - a.score || a.index - b.index).map((s) => String(s.index));

/** One scheduled or running copy; `cut` once the drain gave up on it (its late answer then counts for nothing). */
interface Copy {
  readonly labels: { alias: string; shadow: string };
  cut: boolean;
}

export class ShadowMirror {
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly live = new Set<Copy>();

  constructor(
    private readonly shadows: Readonly<Record<string, ShadowConfig>>,
    private readonly send: ShadowSend,
    private readonly metrics: ShadowMetrics,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether `alias` has a shadow (a cheap check before keeping the request's documents). */
  has(alias: string): boolean {
    return alias in this.shadows;
  }

  /**
   * Called with a finished primary answer. Maybe schedules a copy; returns at once and never throws. A call the
   * shadow itself answered (the alias picked it as a canary target) is not copied.
   */
  offer(alias: string, servedBy: string, query: string, documents: readonly string[], primary: readonly Scored[]) {
    const s = this.shadows[alias];
    if (!s || servedBy === s.model || documents.length < 2 || this.random() >= s.sampleRate) return;
    const labels = { alias, shadow: s.model };
    if (this.inFlight >= s.maxInFlight) {
      this.metrics.calls.inc({ ...labels, outcome: "busy" });
      return;
    }
    this.inFlight++;
    const state: Copy = { labels, cut: false };
    this.live.add(state);
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        if (!state.cut) return this.copy(s, state, query, documents, primary);
        this.inFlight--; // cut off before it started
      })
      .finally(() => {
        this.pending.delete(done);
        this.live.delete(state);
      });
    this.pending.add(done);
  }

  private async copy(
    s: ShadowConfig,
    state: Copy,
    query: string,
    documents: readonly string[],
    primary: readonly Scored[],
  ): Promise<void> {
    const labels = state.labels;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const call = this.send(s.model, query, documents).finally(() => this.inFlight--);
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), s.timeoutMs);
      timer.unref();
    });
    try {
      const got = await Promise.race([call, deadline]);
      if (state.cut) return; // already counted as cut_off by the drain
      if (got === "timeout") {
        timedOut = true;
        this.metrics.calls.inc({ ...labels, outcome: "timeout" });
        return;
      }
      const a = agreement(order(primary), order(got));
      this.metrics.calls.inc({ ...labels, outcome: "compared" });
      this.metrics.compared.inc(labels);
      for (const [field, measure] of MEASURES)
        if (Number.isFinite(a[field])) this.metrics.agreementSum.inc({ ...labels, measure }, a[field]);
    } catch {
      if (!timedOut && !state.cut) this.metrics.calls.inc({ ...labels, outcome: "failed" });
    } finally {
      clearTimeout(timer);
      call.catch(() => {}); // a late failure after the timeout is already counted
    }
  }

  /** Resolves when every scheduled copy has been judged (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /**
   * The drain's part (shutdown): waits for every scheduled or running copy, at most `budgetMs`; the ones still
   * running then are counted as "cut_off" and their answers ignored (the caller closes the pools next). Returns
   * how many copies were waited for and how many of them were cut off.
   */
  async drain(budgetMs: number): Promise<{ waited: number; cutOff: number }> {
    const waited = this.live.size;
    if (waited === 0) return { waited, cutOff: 0 };
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), Math.max(0, budgetMs));
    });
    const outcome = await Promise.race([this.idle().then(() => "idle" as const), outOfTime]);
    clearTimeout(timer);
    if (outcome === "idle") return { waited, cutOff: 0 };
    let cutOff = 0;
    for (const c of this.live) {
      if (c.cut) continue;
      c.cut = true;
      cutOff++;
      this.metrics.calls.inc({ ...c.labels, outcome: "cut_off" });
    }
    return { waited, cutOff };
  }

  get busy(): number {
    return this.inFlight;
  }
}

/**
 * The gateway's mirror for the aliases that name a shadow, or undefined when none does. Copies go straight to
 * the shadow's replicas (its own pool, not its breaker: a failing candidate must not trip anything for callers
 * who call it by name).
 */
export function shadowMirror(
  config: Pick<RuntimeConfig, "aliases" | "maxAnswerBytes">,
  routes: ModelRoutes,
  metrics: GatewayMetrics,
): ShadowMirror | undefined {
  const shadows = Object.fromEntries(
    Object.entries(config.aliases).flatMap(([alias, a]) => (a.shadow ? [[alias, a.shadow]] : [])),
  );
  if (Object.keys(shadows).length === 0) return undefined;
  return new ShadowMirror(
    shadows,
    async (model, query, documents) => {
      const route = routes.get(model);
      if (!route) throw new Error(`no route for ${model}`);
      return (
        await rerank(route.group, route.model, query, documents, { headers: {}, maxBytes: config.maxAnswerBytes })
      ).value;
    },
    { calls: metrics.shadowCalls, compared: metrics.shadowCompared, agreementSum: metrics.shadowAgreement },
  );
}
