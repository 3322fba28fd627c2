/**
 * A model's fingerprint: what it answers to the fixed probe set (probes.ts), recorded by the first verified
 * deploy and compared by every later deploy and every canary run. An embedding fingerprint holds each probe's
 * unit vector (float16, base64) and norm; a rerank fingerprint each probe's scores. Both are keyed by what can
 * change the answers (model id, revision, engine and its version, dtype, dimensions), so a drift report can say
 * what changed. Pure: building, comparing and the messages; recording and reading live elsewhere.
 */
import { createHash } from "node:crypto";
import { decodeHalf, encodeHalf } from "./float16";
import { PROBE_SET_VERSION } from "./probes";
import { kendallTau, orderByScore, topKOverlap } from "./ranking";

export interface FingerprintKey {
  readonly modelId: string;
  /** The configured revision; "unpinned" when the config names none (a re-pull may change the weights). */
  readonly revision: string;
  readonly engine: string;
  readonly engineVersion: string;
  readonly dtype: string;
  /** Vector size (embedding models); 0 for rerank models. */
  readonly dimensions: number;
}

interface EmbedProbeRecord {
  readonly id: string;
  readonly norm: number;
  /** The unit vector as float16, base64 (float16.ts). */
  readonly unit: string;
}

interface RerankProbeRecord {
  readonly id: string;
  /** Score of each document, in the probe's document order. */
  readonly scores: readonly number[];
}

export type Fingerprint =
  | {
      readonly task: "embed";
      readonly key: FingerprintKey;
      readonly probeSet: string;
      readonly id: string;
      readonly probes: readonly EmbedProbeRecord[];
    }
  | {
      readonly task: "rerank";
      readonly key: FingerprintKey;
      readonly probeSet: string;
      readonly id: string;
      readonly probes: readonly RerankProbeRecord[];
    };

/** Tolerances of a comparison (config: verification.fingerprint; defaults and how they were chosen: docs/model-changes.md). */
export interface FingerprintTolerance {
  /** Embeddings: every probe's cosine to its recorded vector must be at least this. */
  readonly minCosine: number;
  /** Embeddings: every probe's norm may differ from the recorded one by at most this fraction. */
  readonly maxNormChange: number;
  /** Rerank: Kendall's tau of every probe's order against the recorded one. */
  readonly minKendallTau: number;
  /** Rerank: share of the recorded top 3 still in the top 3. */
  readonly minTop3Overlap: number;
  /** Rerank: largest score change, as a fraction of the recorded scores' range on that probe. */
  readonly maxScoreChange: number;
}

export const DEFAULT_TOLERANCE: FingerprintTolerance = {
  minCosine: 0.999,
  maxNormChange: 0.02,
  minKendallTau: 0.7,
  minTop3Overlap: 0.66,
  maxScoreChange: 0.05,
};

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** A short, stable id of a fingerprint (what a re-index confirmation names). */
function digest(task: string, key: FingerprintKey, probeSet: string, body: unknown): string {
  const h = createHash("sha256").update(JSON.stringify({ task, key, probeSet, body }));
  return `fp-${h.digest("hex").slice(0, 12)}`;
}

export function embedFingerprint(
  key: FingerprintKey,
  probes: readonly { id: string; vector: readonly number[] }[],
): Fingerprint {
  const records = probes.map(({ id, vector }) => {
    const n = norm(vector);
    return { id, norm: n, unit: encodeHalf(vector.map((x) => (n > 0 ? x / n : x))) };
  });
  return {
    task: "embed",
    key,
    probeSet: PROBE_SET_VERSION,
    id: digest("embed", key, PROBE_SET_VERSION, records),
    probes: records,
  };
}

export function rerankFingerprint(
  key: FingerprintKey,
  probes: readonly { id: string; scores: readonly number[] }[],
): Fingerprint {
  const records = probes.map(({ id, scores }) => ({ id, scores: [...scores] }));
  return {
    task: "rerank",
    key,
    probeSet: PROBE_SET_VERSION,
    id: digest("rerank", key, PROBE_SET_VERSION, records),
    probes: records,
  };
}

interface ProbeDrift {
  readonly id: string;
  /** Embeddings: cosine to the recorded vector; rerank: Kendall's tau of the order. */
  readonly similarity: number;
  /** Embeddings: |norm / recorded - 1|; rerank: largest score change / recorded range. */
  readonly change: number;
  /** Rerank only: top-3 overlap with the recorded order. */
  readonly top3?: number;
  readonly pass: boolean;
}

export interface Comparison {
  readonly pass: boolean;
  readonly probes: readonly ProbeDrift[];
  /** Lowest similarity over the probes (cosine or tau): the canary's drift gauge is 1 - this. */
  readonly minSimilarity: number;
  /** The probe with the lowest similarity. */
  readonly worst?: ProbeDrift;
  /** Probes of the record the current answers lack (a changed probe set or dimensions). */
  readonly missing: readonly string[];
  /** One line: the numbers against the tolerance. */
  readonly summary: string;
}

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/** Compares current answers with a recorded embedding fingerprint, probe by probe. */
export function compareEmbed(
  recorded: Fingerprint,
  current: ReadonlyMap<string, readonly number[]>,
  tol: FingerprintTolerance = DEFAULT_TOLERANCE,
): Comparison {
  if (recorded.task !== "embed") throw new Error(`fingerprint ${recorded.id} is a ${recorded.task} fingerprint`);
  const missing: string[] = [];
  const probes: ProbeDrift[] = [];
  for (const r of recorded.probes) {
    const v = current.get(r.id);
    if (!v) {
      missing.push(r.id);
      continue;
    }
    const unit = decodeHalf(r.unit);
    const n = norm(v);
    let dot = 0;
    if (v.length === unit.length) for (let i = 0; i < v.length; i++) dot += unit[i]! * v[i]!;
    const cos = v.length === unit.length && n > 0 ? dot / (n * norm(unit)) : NaN;
    const change = r.norm > 0 ? Math.abs(n / r.norm - 1) : n > 0 ? Infinity : 0;
    // NaN compares false: a vector of other length or a zero vector fails.
    probes.push({ id: r.id, similarity: cos, change, pass: cos >= tol.minCosine && change <= tol.maxNormChange });
  }
  return summarise(probes, missing, (w) => {
    const normWorst = probes.reduce((a, b) => (b.change > a.change ? b : a), probes[0]!);
    return `lowest per-probe cosine ${f4(w.similarity)} (probe ${w.id}; tolerance ≥ ${tol.minCosine}), largest norm change ${(normWorst.change * 100).toFixed(2)} % (probe ${normWorst.id}; tolerance ≤ ${(tol.maxNormChange * 100).toFixed(1)} %) over ${probes.length} probes`;
  });
}

/** Compares current rerank scores (per probe, in document order) with a recorded rerank fingerprint. */
export function compareRerank(
  recorded: Fingerprint,
  current: ReadonlyMap<string, readonly number[]>,
  tol: FingerprintTolerance = DEFAULT_TOLERANCE,
): Comparison {
  if (recorded.task !== "rerank") throw new Error(`fingerprint ${recorded.id} is a ${recorded.task} fingerprint`);
  const missing: string[] = [];
  const probes: ProbeDrift[] = [];
  for (const r of recorded.probes) {
    const s = current.get(r.id);
    if (!s || s.length !== r.scores.length) {
      missing.push(r.id);
      continue;
    }
    const order = (scores: readonly number[]) => orderByScore(scores.map((score, i) => ({ id: String(i), score })));
    const before = order(r.scores);
    const now = order(s);
    const tau = kendallTau(before, now);
    const top3 = topKOverlap(before, now, 3);
    const range = Math.max(...r.scores) - Math.min(...r.scores) || 1;
    const change = Math.max(...s.map((x, i) => Math.abs(x - r.scores[i]!))) / range;
    probes.push({
      id: r.id,
      similarity: tau,
      change,
      top3,
      pass: tau >= tol.minKendallTau && top3 >= tol.minTop3Overlap && change <= tol.maxScoreChange,
    });
  }
  return summarise(probes, missing, (w) => {
    const scoreWorst = probes.reduce((a, b) => (b.change > a.change ? b : a), probes[0]!);
    const top3Worst = Math.min(...probes.map((p) => p.top3 ?? 1));
    return `lowest Kendall tau ${f4(w.similarity)} (probe ${w.id}; tolerance ≥ ${tol.minKendallTau}), lowest top-3 overlap ${f4(top3Worst)} (tolerance ≥ ${tol.minTop3Overlap}), largest score change ${(scoreWorst.change * 100).toFixed(1)} % of the probe's range (probe ${scoreWorst.id}; tolerance ≤ ${(tol.maxScoreChange * 100).toFixed(1)} %) over ${probes.length} probes`;
  });
}

function summarise(probes: ProbeDrift[], missing: string[], line: (worst: ProbeDrift) => string): Comparison {
  const worst = probes.reduce<ProbeDrift | undefined>(
    (a, b) => (a === undefined || !(b.similarity >= a.similarity) ? b : a),
    undefined,
  );
  const minSimilarity = worst ? worst.similarity : NaN;
  const pass = missing.length === 0 && probes.length > 0 && probes.every((p) => p.pass);
  const summary = worst
    ? `${line(worst)}${missing.length ? `; ${missing.length} recorded probe(s) without a comparable answer (${missing.slice(0, 3).join(", ")})` : ""}`
    : `no recorded probe has a comparable answer (${missing.length} missing)`;
  return { pass, probes, minSimilarity, worst, missing, summary };
}

/** What differs between two keys, e.g. `engine version v0.27.1 -> v0.28.0, dtype bfloat16 -> float16`. */
function describeChange(before: FingerprintKey, after: FingerprintKey): string {
  const fields: [keyof FingerprintKey, string][] = [
    ["modelId", "model"],
    ["revision", "revision"],
    ["engine", "engine"],
    ["engineVersion", "engine version"],
    ["dtype", "dtype"],
    ["dimensions", "dimensions"],
  ];
  const changed = fields
    .filter(([k]) => before[k] !== after[k])
    .map(([k, label]) => `${label} ${String(before[k])} -> ${String(after[k])}`);
  if (changed.length) return changed.join(", ");
  return before.revision === "unpinned"
    ? "nothing in the config (the revision is unpinned: the weights may have been re-pulled; pin `revision`)"
    : "nothing in the config (same model, revision, engine, dtype: the engine image or hardware answers differently)";
}

/** The fields of a key a revert would set back (config keys), e.g. `engineVersion: v0.27.1, dtype: bfloat16`. */
function revertHint(before: FingerprintKey, after: FingerprintKey): string {
  const keys: [keyof FingerprintKey, string][] = [
    ["revision", "revision"],
    ["engineVersion", "engineVersion"],
    ["dtype", "dtype"],
    ["engine", "engine"],
    ["modelId", "model"],
  ];
  const back = keys.filter(([k]) => before[k] !== after[k]).map(([k, cfg]) => `${cfg}: ${String(before[k])}`);
  return back.length ? `set ${back.join(", ")} again` : "roll back to the previous engine image";
}

/**
 * The id a re-index confirmation names: derived from the recorded fingerprint and the new key, never from the
 * new answers (engines are not bit-reproducible, so an id of the vectors would change on every run).
 */
export function confirmationId(recorded: Fingerprint, key: FingerprintKey): string {
  return `fp-${createHash("sha256")
    .update(`${recorded.id}\u0000${JSON.stringify(key)}`)
    .digest("hex")
    .slice(0, 12)}`;
}

/**
 * The deploy's failure message for a drift: the model, what changed, the numbers, and both fixes (revert, or
 * confirm a re-index by naming the new fingerprint in config, like the alias dimensions confirmation).
 */
export function driftMessage(
  model: string,
  configPath: string,
  recorded: Fingerprint,
  current: Fingerprint,
  comparison: Comparison,
): string {
  const what = recorded.task === "embed" ? "vectors" : "rerank scores";
  return (
    `${model} (${current.key.modelId}): the ${what} drifted from the fingerprint recorded at ${keyText(recorded.key)} ` +
    `(${recorded.id}): ${comparison.summary}. What changed: ${describeChange(recorded.key, current.key)}. ` +
    `Indexes built with the old ${what === "vectors" ? "vectors" : "scores"} would quietly return worse results. ` +
    `Fix: revert (${revertHint(recorded.key, current.key)}), or, after re-indexing with the new ${what}, ` +
    `confirm it by setting ${configPath}.reindexConfirmed: "${confirmationId(recorded, current.key)}".`
  );
}

export function keyText(k: FingerprintKey): string {
  return `${k.modelId}@${k.revision} on ${k.engine} ${k.engineVersion}, dtype ${k.dtype}${k.dimensions ? `, ${k.dimensions} dims` : ""}`;
}
