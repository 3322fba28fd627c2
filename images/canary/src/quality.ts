/**
 * Ranking quality of one model on a labelled set: MRR@10 and NDCG@10 (binary relevance). The bundled set is the
 * verifier's (images/verifier/src/quality-set.ts, with the verifier's own rerank candidates); a user set comes
 * from a ConfigMap as JSONL, one query per line: {"query", "candidates": [{"id", "text"}], "relevant": [ids]}.
 */
import { parseLabelledSet, type LabelledQuery } from "../../../components/quality/labelled-set";
import type { EngineClient } from "../../verifier/src/client";
import { QUALITY_BATCH, candidatesFor } from "../../verifier/src/checks/quality";
import { QUALITY_CORPUS, QUALITY_QUERIES, reciprocalRankAt } from "../../verifier/src/quality-set";
import { cosine } from "../../verifier/src/vectors";
import type { Task } from "../../../components/config/common";
import { inLanguages, qualityLanguages, textLanguage } from "../../../components/quality/languages";

const K = 10;

export interface LabelledSet {
  /** The `set` label of the metrics: "bundled" or "user". */
  readonly name: string;
  readonly queries: readonly LabelledQuery[];
}

/**
 * The verifier's bundled set in this shape: an embedding model ranks the whole corpus for every query (as the
 * verifier's quality check does), a reranker scores the verifier's candidate list of the query.
 */
export function bundledSet(task: Task, languages?: readonly string[]): LabelledSet {
  const langs = qualityLanguages(languages);
  const all = Object.keys(QUALITY_CORPUS).filter((id) => langs.includes(textLanguage(QUALITY_CORPUS[id]!)));
  return {
    name: "bundled",
    queries: inLanguages(QUALITY_QUERIES, langs, (q) => q.query).map((q) => ({
      query: q.query,
      candidates: (task === "embed" ? all : candidatesFor(q).filter((id) => all.includes(id))).map((id) => ({
        id,
        text: QUALITY_CORPUS[id]!,
      })),
      relevant: [q.relevant],
    })),
  };
}

/** Parses a user set (JSONL); throws naming the line and the problem. */
export function parseUserSet(text: string): LabelledSet {
  return { name: "user", queries: parseLabelledSet(text) };
}

/** NDCG@k of a ranking with binary relevance. */
export function ndcgAt(ranking: readonly string[], relevant: readonly string[], k = K): number {
  const rel = new Set(relevant);
  const dcg = ranking.slice(0, k).reduce((s, id, i) => s + (rel.has(id) ? 1 / Math.log2(i + 2) : 0), 0);
  let ideal = 0;
  for (let i = 0; i < Math.min(rel.size, k); i++) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** Reciprocal rank of the first relevant id within the top k (0 when none is there). */
export function reciprocalRank(ranking: readonly string[], relevant: readonly string[], k = K): number {
  return Math.max(0, ...relevant.map((r) => reciprocalRankAt(ranking, r, k)));
}

/** Ranks every query's candidates with the model: embedding cosine, or the reranker's scores (sorted by us). */
async function rank(client: EngineClient, task: Task, set: LabelledSet, dimensions?: number): Promise<string[][]> {
  if (task === "embed") {
    const texts = [...new Set(set.queries.flatMap((q) => [q.query, ...q.candidates.map((c) => c.text)]))];
    const vectors = new Map<string, number[]>();
    for (let i = 0; i < texts.length; i += QUALITY_BATCH) {
      const chunk = texts.slice(i, i + QUALITY_BATCH);
      const got = (await client.embed(chunk, dimensions)).value;
      if (got.length !== chunk.length) throw new Error(`${got.length} vectors for ${chunk.length} inputs`);
      chunk.forEach((t, j) => vectors.set(t, got[j]!));
    }
    return set.queries.map((q) =>
      q.candidates
        .map((c) => ({ id: c.id, s: cosine(vectors.get(q.query)!, vectors.get(c.text)!) }))
        .sort((a, b) => b.s - a.s)
        .map((x) => x.id),
    );
  }
  const out: string[][] = [];
  for (const q of set.queries) {
    const scored: { id: string; score: number }[] = [];
    for (let i = 0; i < q.candidates.length; i += QUALITY_BATCH) {
      const chunk = q.candidates.slice(i, i + QUALITY_BATCH);
      const results = (
        await client.rerank(
          q.query,
          chunk.map((c) => c.text),
        )
      ).value;
      // Score only a valid answer: one finite score per candidate, each index once (a duplicated index used to
      // yield an MRR that "passed" while the sanity check failed).
      const seen = new Set<number>();
      for (const r of results) {
        if (!Number.isInteger(r.index) || !chunk[r.index])
          throw new Error(`"${q.query.slice(0, 40)}": index ${r.index} is not one of the ${chunk.length} candidates`);
        if (seen.has(r.index)) throw new Error(`"${q.query.slice(0, 40)}": index ${r.index} appears twice`);
        if (!Number.isFinite(r.score)) throw new Error(`"${q.query.slice(0, 40)}": score ${r.score} is not finite`);
        seen.add(r.index);
        scored.push({ id: chunk[r.index]!.id, score: r.score });
      }
      if (seen.size !== chunk.length)
        throw new Error(`"${q.query.slice(0, 40)}": ${seen.size} scores for ${chunk.length} candidates`);
    }
    out.push(scored.sort((a, b) => b.score - a.score).map((x) => x.id));
  }
  return out;
}

interface QualityScore {
  readonly mrrAt10: number;
  readonly ndcgAt10: number;
  readonly queries: number;
}

/** MRR@10 and NDCG@10 of the model on the set. Throws on a transport or shape error (the check fails). */
export async function scoreSet(
  client: EngineClient,
  task: Task,
  set: LabelledSet,
  dimensions?: number,
): Promise<QualityScore> {
  const ranked = await rank(client, task, set, dimensions);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    mrrAt10: mean(set.queries.map((q, i) => reciprocalRank(ranked[i]!, q.relevant))),
    ndcgAt10: mean(set.queries.map((q, i) => ndcgAt(ranked[i]!, q.relevant))),
    queries: set.queries.length,
  };
}
