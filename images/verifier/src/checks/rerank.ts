import type { RerankResult } from "../../../../components/serving/dialects/types";
import type { CheckResult } from "../report";
import { RERANK_EXAMPLE, TOP_N, TOP_N_DOCUMENTS } from "../request-texts";
import { fmt, runCheck, skipped, type CheckContext } from "./context";

/** What is wrong with a result list's indices for `n` documents, or undefined when they are a permutation. */
function indexProblem(results: readonly RerankResult[], n: number, expectedCount = n): string | undefined {
  if (results.length === 0) return "no results";
  const outOfRange = results.find((r) => r.index < 0 || r.index >= n);
  if (outOfRange) return `index ${outOfRange.index} out of range 0..${n - 1}`;
  const seen = new Set<number>();
  for (const r of results) {
    if (seen.has(r.index)) return `index ${r.index} appears twice`;
    seen.add(r.index);
  }
  if (results.length !== expectedCount) return `${results.length} results for ${expectedCount} expected`;
  return undefined;
}

/** What is wrong with the scores (non-finite, not descending), or undefined. */
function scoreProblem(results: readonly RerankResult[]): string | undefined {
  const bad = results.findIndex((r) => !Number.isFinite(r.score));
  if (bad >= 0) return `score ${results[bad]!.score} at result ${bad}`;
  for (let i = 1; i < results.length; i++) {
    if (results[i]!.score > results[i - 1]!.score)
      return `result ${i} (${fmt(results[i]!.score)}) scores above result ${i - 1} (${fmt(results[i - 1]!.score)})`;
  }
  return undefined;
}

/**
 * Rerank checks on the rerank example: the asyncio+aiohttp document first, indices a permutation of the
 * documents, scores finite and descending; then `top_n` honoured where the dialect has it.
 */
export async function rerankChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const { client } = ctx;
  const docs = RERANK_EXAMPLE.documents;
  const results: CheckResult[] = [];
  let ranked: RerankResult[] | undefined;

  results.push(
    await runCheck(
      ctx,
      "rerank.best-first",
      `document ${RERANK_EXAMPLE.best} (${RERANK_EXAMPLE.bestLabel}) first for "${RERANK_EXAMPLE.query}"`,
      async () => {
        ranked = (await client.rerank(RERANK_EXAMPLE.query, docs)).value;
        if (ranked.length === 0) return { pass: false, got: "no results" };
        const top = ranked[0]!;
        const order = ranked.map((r) => `${r.index}:${fmt(r.score, 3)}`).join(", ");
        return { pass: top.index === RERANK_EXAMPLE.best, got: `document ${top.index} first (index:score ${order})` };
      },
    ),
  );
  const because = "rerank.best-first returned no parsable results";
  const indicesExpected = `${docs.length} results, indices a permutation of 0..${docs.length - 1}`;
  const scoresExpected = "finite scores in descending order";
  if (!ranked) {
    results.push(
      skipped(ctx, "rerank.indices", indicesExpected, because),
      skipped(ctx, "rerank.scores", scoresExpected, because),
    );
  } else {
    const list = ranked;
    results.push(
      await runCheck(ctx, "rerank.indices", indicesExpected, () => {
        const problem = indexProblem(list, docs.length);
        return { pass: !problem, got: problem ?? `indices [${list.map((r) => r.index).join(", ")}]` };
      }),
      await runCheck(ctx, "rerank.scores", scoresExpected, () => {
        const problem = scoreProblem(list);
        return { pass: !problem, got: problem ?? list.map((r) => fmt(r.score, 3)).join(" ≥ ") };
      }),
    );
  }

  const topExpected = `${TOP_N} results for top_n=${TOP_N} over ${TOP_N_DOCUMENTS.length} documents, document ${RERANK_EXAMPLE.best} first`;
  if (!client.dialect.rerankHonoursTopN) {
    results.push(
      skipped(
        ctx,
        "rerank.top_n",
        topExpected,
        `the ${client.dialect.name} dialect has no top_n (clients keep the first N)`,
      ),
    );
  } else {
    results.push(
      await runCheck(ctx, "rerank.top_n", topExpected, async () => {
        const top = (await client.rerank(RERANK_EXAMPLE.query, TOP_N_DOCUMENTS, TOP_N)).value;
        const problem = indexProblem(top, TOP_N_DOCUMENTS.length, TOP_N);
        if (problem) return { pass: false, got: problem };
        return {
          pass: top[0]!.index === RERANK_EXAMPLE.best,
          got: `${top.length} results, indices [${top.map((r) => r.index).join(", ")}]`,
        };
      }),
    );
  }
  return results;
}
