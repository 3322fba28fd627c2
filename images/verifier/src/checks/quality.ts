import { createHash } from "node:crypto";
import type { CheckResult } from "../report";
import { QUALITY_CORPUS, QUALITY_QUERIES, reciprocalRankAt, type LabelledQuery } from "../quality-set";
import { cosine } from "../vectors";
import { fmt, runCheck, skipped, type CheckContext } from "./context";
import { inLanguages, qualityLanguages, scopeText, textLanguage } from "../../../../components/quality/languages";

/** Inputs per embedding request and candidates per rerank request: TEI refuses more than 32 by default. */
export const QUALITY_BATCH = 16;

const corpusIds = Object.keys(QUALITY_CORPUS);

/** The rerank candidates of a query: its relevant passage and QUALITY_BATCH-1 others, chosen by a stable hash. */
export function candidatesFor(q: LabelledQuery): string[] {
  const key = (id: string) => createHash("sha256").update(`${q.query}\u0000${id}`).digest("hex");
  const others = corpusIds.filter((id) => id !== q.relevant).sort((a, b) => key(a).localeCompare(key(b)));
  return [q.relevant, ...others.slice(0, QUALITY_BATCH - 1)].sort((a, b) => key(a).localeCompare(key(b)));
}

async function embedAll(ctx: CheckContext, texts: readonly string[]): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += QUALITY_BATCH) {
    const chunk = texts.slice(i, i + QUALITY_BATCH);
    const vectors = (await ctx.client.embed(chunk, ctx.target.requestDimensions)).value;
    if (vectors.length !== chunk.length) throw new Error(`${vectors.length} vectors for ${chunk.length} inputs`);
    out.push(...vectors);
  }
  return out;
}

/** Rankings (candidate ids, best first) of labelled queries over their candidates (texts by id). */
async function rankings(
  ctx: CheckContext,
  queries: readonly { query: string; candidates: readonly string[] }[],
  textOf: (id: string) => string,
): Promise<string[][]> {
  if (ctx.target.task === "embed") {
    const ids = [...new Set(queries.flatMap((q) => q.candidates))];
    const docs = await embedAll(ctx, ids.map(textOf));
    const byId = new Map(ids.map((id, i) => [id, docs[i]!]));
    const qv = await embedAll(
      ctx,
      queries.map((q) => q.query),
    );
    return queries.map((q, i) =>
      q.candidates
        .map((id) => ({ id, s: cosine(qv[i]!, byId.get(id)!) }))
        .sort((a, b) => b.s - a.s)
        .map((x) => x.id),
    );
  }
  const out: string[][] = [];
  for (const q of queries) {
    const ids = q.candidates.slice(0, QUALITY_BATCH);
    const results = (await ctx.client.rerank(q.query, ids.map(textOf))).value;
    // Order by score ourselves: the ranking must not depend on the server's sort.
    out.push([...results].sort((a, b) => b.score - a.score).map((r) => ids[r.index] ?? `?${r.index}`));
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * MRR@10 against the model's threshold, on the model's own labelled set when it has one, else on the part of the
 * bundled set in the model's languages (an English-only model is not judged by Chinese queries); the expected
 * cell says which.
 */
export async function qualityChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const min = ctx.target.minMrrAt10 ?? ctx.options.quality.minMrrAt10;
  const own = ctx.target.labelledSet;
  if (own) {
    const texts = new Map(own.flatMap((q) => q.candidates.map((c) => [c.id, c.text] as const)));
    const queries = own.map((q) => ({ query: q.query, candidates: q.candidates.map((c) => c.id) }));
    return [
      await runCheck(
        ctx,
        "quality.mrr@10",
        `MRR@10 ≥ ${min} over the model's own labelled set (${own.length} queries)`,
        async () => {
          const ranked = await rankings(ctx, queries, (id) => texts.get(id)!);
          const mrr = mean(own.map((q, i) => Math.max(0, ...q.relevant.map((r) => reciprocalRankAt(ranked[i]!, r)))));
          return { pass: mrr >= min, got: fmt(mrr, 3) };
        },
      ),
    ];
  }
  const languages = qualityLanguages(ctx.target.languages);
  if (languages.length === 0)
    return [
      skipped(
        ctx,
        "quality.mrr@10",
        `MRR@10 ≥ ${min}`,
        `the bundled labelled set has no queries in the model's languages (${(ctx.target.languages ?? []).join(", ")}); give the model its own set (models[].quality.labelledSet)`,
      ),
    ];
  const used = inLanguages(QUALITY_QUERIES, languages, (q) => q.query);
  const corpus = corpusIds.filter((id) => languages.includes(textLanguage(QUALITY_CORPUS[id]!)));
  const expected = `MRR@10 ≥ ${min} over ${scopeText(QUALITY_QUERIES, languages, ctx.target.languages)}`;
  return [
    await runCheck(ctx, "quality.mrr@10", expected, async () => {
      const queries = used.map((q) => ({
        query: q.query,
        candidates: ctx.target.task === "embed" ? corpus : candidatesFor(q).filter((id) => corpus.includes(id)),
      }));
      const ranked = await rankings(ctx, queries, (id) => QUALITY_CORPUS[id]!);
      const rr = used.map((q, i) => reciprocalRankAt(ranked[i]!, q.relevant));
      const mrr = mean(rr);
      const misses = used.filter((_, i) => rr[i]! < 1).map((q) => `"${q.query}"`);
      const detail = languages
        .map((l) => `${l} ${fmt(mean(rr.filter((_, i) => textLanguage(used[i]!.query) === l)), 3)}`)
        .join(", ");
      return {
        pass: mrr >= min,
        got: `${fmt(mrr, 3)} (${detail}); not first: ${misses.length ? misses.slice(0, 3).join(", ") + (misses.length > 3 ? ` and ${misses.length - 3} more` : "") : "none"}`,
      };
    }),
  ];
}
