/**
 * Promotion on evidence: before a rerank alias gives a candidate more traffic (or an embedding alias switches
 * model), the candidate must have earned it in Prometheus: enough shadow calls that agree with the current
 * model (the gateway's shadow metrics), and canary quality (MRR@10, NDCG@10) not below the current model's by
 * more than the allowed drop. This module builds the PromQL and judges the numbers; reading Prometheus is
 * prometheus-reader.ts. Pure.
 */

/** The gate's thresholds (config: verification.promotion). */
export interface PromotionGate {
  /** Look-back of every query, a PromQL duration such as "24h". */
  readonly window: string;
  /** Shadow calls compared with the current model in the window, at least. */
  readonly minShadowCalls: number;
  readonly minKendallTau: number;
  readonly minTop3Overlap: number;
  readonly minNdcgAt10: number;
  /** The candidate's canary MRR@10 and NDCG@10 may be at most this much below the current model's. */
  readonly maxQualityDrop: number;
}

/** One promotion the config asks for. */
export interface Promotion {
  /** The alias (gateway.aliases key). */
  readonly alias: string;
  readonly task: "embed" | "rerank";
  /** The model that gains traffic. */
  readonly candidate: string;
  /** The model it is compared with (the alias's current main target). */
  readonly current: string;
  /** For messages, e.g. "weight 10 -> 50" or "switch from bge-m3-v1". */
  readonly change: string;
}

/** Names of the series the gate reads (the gateway's shadow metrics and the canary's quality gauges). */
const SHADOW_METRICS = {
  compared: "retrieval_gateway_shadow_compared_total",
  agreementSum: "retrieval_gateway_shadow_agreement_sum",
  calls: "retrieval_gateway_shadow_calls_total",
} as const;
const CANARY_MRR = "retrieval_stack_canary_mrr_at_10";
const CANARY_NDCG = "retrieval_stack_canary_ndcg_at_10";

const q = (s: string) => JSON.stringify(s);

/** The PromQL of each number the gate needs (also what docs/model-changes.md and plan.md show). */
export function promotionQueries(p: Promotion, gate: Pick<PromotionGate, "window">) {
  const sel = `alias=${q(p.alias)},shadow=${q(p.candidate)}`;
  const compared = `sum(increase(${SHADOW_METRICS.compared}{${sel}}[${gate.window}]))`;
  const mean = (measure: string) =>
    `sum(increase(${SHADOW_METRICS.agreementSum}{${sel},measure=${q(measure)}}[${gate.window}])) / ${compared}`;
  const quality = (metric: string, model: string) =>
    `avg(avg_over_time(${metric}{model=${q(model)},set="bundled"}[${gate.window}]))`;
  return {
    shadowCalls: compared,
    kendallTau: mean("kendall_tau"),
    top3: mean("top3"),
    ndcgAt10: mean("ndcg_at_10"),
    candidateMrr: quality(CANARY_MRR, p.candidate),
    currentMrr: quality(CANARY_MRR, p.current),
    candidateNdcg: quality(CANARY_NDCG, p.candidate),
    currentNdcg: quality(CANARY_NDCG, p.current),
  };
}
export type EvidenceName = keyof ReturnType<typeof promotionQueries>;

/** The numbers read; undefined = no series (missing evidence). */
export type Evidence = Partial<Record<EvidenceName, number>>;

interface GateVerdict {
  readonly pass: boolean;
  /** One line per requirement: "<what> <got> (needs <threshold>)". */
  readonly lines: readonly string[];
  readonly message: string;
}

const f3 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "missing" : x.toFixed(3));

/**
 * Judges one promotion. Rerank candidates need shadow evidence and canary quality; an embedding switch needs the
 * canary quality (a shadow compares rankings, and an embedding alias has no ranking to mirror). `override` (the
 * emergency reason from config) passes the gate but keeps the numbers in the message.
 */
export function judgePromotion(p: Promotion, gate: PromotionGate, e: Evidence, override?: string): GateVerdict {
  const failures: string[] = [];
  const lines: string[] = [];
  const need = (label: string, got: number | undefined, ok: (x: number) => boolean, threshold: string) => {
    const pass = got !== undefined && Number.isFinite(got) && ok(got);
    lines.push(`${pass ? "ok  " : "FAIL"} ${label} ${f3(got)} (needs ${threshold})`);
    if (!pass) failures.push(`${label} ${f3(got)} (needs ${threshold})`);
  };
  if (p.task === "rerank") {
    const calls = e.shadowCalls;
    const enough = calls !== undefined && calls >= gate.minShadowCalls;
    lines.push(
      `${enough ? "ok  " : "FAIL"} shadow calls compared in ${gate.window}: ${calls === undefined ? "missing" : Math.round(calls)} (needs ≥ ${gate.minShadowCalls})`,
    );
    if (!enough)
      failures.push(
        `${calls === undefined ? "no shadow comparisons" : `${Math.round(calls)} shadow comparisons`} in ${gate.window} (needs ≥ ${gate.minShadowCalls})`,
      );
    need("shadow mean Kendall tau", e.kendallTau, (x) => x >= gate.minKendallTau, `≥ ${gate.minKendallTau}`);
    need("shadow mean top-3 overlap", e.top3, (x) => x >= gate.minTop3Overlap, `≥ ${gate.minTop3Overlap}`);
    need("shadow mean NDCG@10", e.ndcgAt10, (x) => x >= gate.minNdcgAt10, `≥ ${gate.minNdcgAt10}`);
  }
  for (const [label, cand, cur] of [
    ["MRR@10", e.candidateMrr, e.currentMrr],
    ["NDCG@10", e.candidateNdcg, e.currentNdcg],
  ] as const) {
    const floor = cur === undefined ? undefined : cur - gate.maxQualityDrop;
    need(
      `canary ${label} of ${p.candidate} (${p.current}: ${f3(cur)})`,
      floor === undefined ? undefined : cand,
      (x) => x >= floor!,
      floor === undefined ? `the current model's ${label}` : `≥ ${floor.toFixed(3)}`,
    );
  }
  const head = `alias ${p.alias}: ${p.change} (${p.candidate} vs ${p.current})`;
  if (failures.length === 0) return { pass: true, lines, message: `${head}: evidence passes the promotion gate.` };
  if (override)
    return {
      pass: true,
      lines,
      message: `${head}: promotion gate OVERRIDDEN ("${override}") although ${failures.join("; ")}.`,
    };
  return {
    pass: false,
    lines,
    message:
      `${head}: the evidence is missing or short: ${failures.join("; ")}. Fix: keep the candidate in shadow ` +
      `(gateway.aliases.${p.alias}.shadow) and at its current weight until the numbers pass, or in an emergency ` +
      `set verification.promotion.override to the reason (docs/model-changes.md).`,
  };
}

/** Rerank weight raises and embedding switches between two alias configurations (previous deploy -> this one). */
export function promotionsBetween(
  before: Readonly<Record<string, { targets: readonly { model: string; weight: number }[] }>>,
  after: Readonly<Record<string, { targets: readonly { model: string; weight: number }[] }>>,
  taskOf: (model: string) => "embed" | "rerank" | undefined,
): Promotion[] {
  const out: Promotion[] = [];
  for (const [alias, a] of Object.entries(after)) {
    const b = before[alias];
    if (!b) continue; // a new alias promotes nothing
    const task = taskOf(a.targets[0]?.model ?? "");
    if (!task) continue;
    const main = (targets: readonly { model: string; weight: number }[]) =>
      targets.reduce((x, y) => (y.weight > x.weight ? y : x), targets[0]!);
    const current = main(b.targets).model;
    if (task === "embed") {
      const next = a.targets[0]!.model;
      if (next !== current)
        out.push({ alias, task, candidate: next, current, change: `switch from ${current} to ${next}` });
      continue;
    }
    const share = (targets: readonly { model: string; weight: number }[], m: string) => {
      const total = targets.reduce((s, t) => s + t.weight, 0);
      return total ? targets.filter((t) => t.model === m).reduce((s, t) => s + t.weight, 0) / total : 0;
    };
    for (const t of a.targets) {
      if (t.model === current) continue;
      const was = share(b.targets, t.model);
      const now = share(a.targets, t.model);
      if (now > was)
        out.push({
          alias,
          task,
          candidate: t.model,
          current,
          change: `${t.model}'s share ${Math.round(was * 100)} % -> ${Math.round(now * 100)} %`,
        });
    }
  }
  return out;
}
