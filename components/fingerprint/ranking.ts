/**
 * Agreement between two rankings of the same documents (ids, best first): Kendall's tau, top-k overlap and
 * NDCG@k of one order taken against the other as the reference. Used by the rerank fingerprints (today's order
 * vs the recorded one) and the gateway's shadow comparison (the shadow's order vs the primary's). Pure.
 */

/**
 * Kendall's tau-a over the documents both rankings hold: (concordant - discordant) / pairs, in -1..1
 * (1: same order, -1: reversed). NaN when fewer than two documents are shared (no pair to compare).
 */
export function kendallTau(reference: readonly string[], other: readonly string[]): number {
  const pos = new Map(other.map((id, i) => [id, i]));
  const shared = reference.filter((id) => pos.has(id));
  const n = shared.length;
  if (n < 2) return NaN;
  let score = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) score += pos.get(shared[i]!)! < pos.get(shared[j]!)! ? 1 : -1;
  return score / ((n * (n - 1)) / 2);
}

/**
 * Share of the reference's top k that the other ranking also has in its top k (0..1). With fewer than k
 * documents, k shrinks to what the reference holds. NaN for an empty reference.
 */
export function topKOverlap(reference: readonly string[], other: readonly string[], k: number): number {
  const kk = Math.min(k, reference.length);
  if (kk === 0) return NaN;
  const top = new Set(other.slice(0, kk));
  return reference.slice(0, kk).filter((id) => top.has(id)).length / kk;
}

/**
 * NDCG@k of `other` with relevance taken from the reference's order: the reference's first document has gain
 * k, its second k-1, ... its k-th 1, the rest 0 (so the reference itself scores 1). 0..1; NaN for an empty
 * reference.
 */
export function ndcgAgainst(reference: readonly string[], other: readonly string[], k = 10): number {
  if (reference.length === 0) return NaN;
  const gain = new Map(reference.slice(0, k).map((id, i) => [id, k - i]));
  const dcg = (order: readonly string[]) =>
    order.slice(0, k).reduce((s, id, i) => s + (gain.get(id) ?? 0) / Math.log2(i + 2), 0);
  return dcg(other) / dcg(reference);
}

/** Ids ordered by score, best first; ties keep the input order (a stable sort). */
export function orderByScore(items: readonly { id: string; score: number }[]): string[] {
  return [...items].sort((a, b) => b.score - a.score).map((x) => x.id);
}

export interface RankingAgreement {
  readonly kendallTau: number;
  readonly top1: number;
  readonly top3: number;
  readonly top10: number;
  readonly ndcgAt10: number;
}

/** Every agreement measure of `other` against `reference`. */
export function agreement(reference: readonly string[], other: readonly string[]): RankingAgreement {
  return {
    kendallTau: kendallTau(reference, other),
    top1: topKOverlap(reference, other, 1),
    top3: topKOverlap(reference, other, 3),
    top10: topKOverlap(reference, other, 10),
    ndcgAt10: ndcgAgainst(reference, other, 10),
  };
}
