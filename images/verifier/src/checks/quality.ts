import { createHash } from "node:crypto";
import type { CheckResult } from "../report";
import { QUALITY_CORPUS, QUALITY_QUERIES, reciprocalRankAt, type LabelledQuery } from "../quality-set";
import { cosine } from "../vectors";
import { fmt, runCheck, type CheckContext } from "./context";

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

/** Rankings (corpus ids, best first) of every labelled query. */
async function rankings(ctx: CheckContext): Promise<string[][]> {
  if (ctx.target.task === "embed") {
    const docs = await embedAll(
      ctx,
      corpusIds.map((id) => QUALITY_CORPUS[id]!),
    );
    const queries = await embedAll(
      ctx,
      QUALITY_QUERIES.map((q) => q.query),
    );
    return queries.map((qv) =>
      corpusIds
        .map((id, i) => ({ id, s: cosine(qv, docs[i]!) }))
        .sort((a, b) => b.s - a.s)
        .map((x) => x.id),
    );
  }
  const out: string[][] = [];
  for (const q of QUALITY_QUERIES) {
    const ids = candidatesFor(q);
    const results = (
      await ctx.client.rerank(
        q.query,
        ids.map((id) => QUALITY_CORPUS[id]!),
      )
    ).value;
    // Order by score ourselves: the ranking must not depend on the server's sort.
    out.push([...results].sort((a, b) => b.score - a.score).map((r) => ids[r.index] ?? `?${r.index}`));
  }
  return out;
}

/** MRR@10 over the bundled labelled set (Chinese and English), against the configured threshold. */
export async function qualityChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const min = ctx.options.quality.minMrrAt10;
  const zh = QUALITY_QUERIES.filter((q) => /[\u4e00-\u9fff]/.test(q.query)).length;
  const expected = `MRR@10 ≥ ${min} over ${QUALITY_QUERIES.length} labelled queries (${zh} zh, ${QUALITY_QUERIES.length - zh} en)`;
  return [
    await runCheck(ctx, "quality.mrr@10", expected, async () => {
      const ranked = await rankings(ctx);
      const rr = QUALITY_QUERIES.map((q, i) => reciprocalRankAt(ranked[i]!, q.relevant));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const isZh = (i: number) => /[\u4e00-\u9fff]/.test(QUALITY_QUERIES[i]!.query);
      const mrr = mean(rr);
      const misses = QUALITY_QUERIES.filter((_, i) => rr[i]! < 1).map((q) => `"${q.query}"`);
      const detail = `zh ${fmt(mean(rr.filter((_, i) => isZh(i))), 3)}, en ${fmt(mean(rr.filter((_, i) => !isZh(i))), 3)}`;
      return {
        pass: mrr >= min,
        got: `${fmt(mrr, 3)} (${detail}); not first: ${misses.length ? misses.slice(0, 3).join(", ") + (misses.length > 3 ? ` and ${misses.length - 3} more` : "") : "none"}`,
      };
    }),
  ];
}
