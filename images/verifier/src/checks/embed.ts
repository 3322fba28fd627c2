import type { CheckResult } from "../report";
import { BATCH_TEXTS, SIMILARITY_CASES, SINGLE_TEXT } from "../request-texts";
import { cosine, firstNonFinite, norm } from "../vectors";
import { fmt, runCheck, skipped, type CheckContext } from "./context";

/** Unit norm tolerance: fp16 weights and bf16 pooling leave ~1e-3 of error; 1e-2 still catches "not normalised". */
const NORM_TOLERANCE = 0.01;
/** A text embedded alone and in a batch must give the same vector (padding/batching bugs show up here). */
const CONSISTENCY_MIN_COSINE = 0.99;

/**
 * Embedding checks: a single input and a batch (Chinese and English), one vector per input, the expected
 * dimension, finite values, unit norm when the model normalises, batch/single consistency, and a paraphrase
 * closer than an unrelated text in each language.
 */
export async function embedChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const { client, target } = ctx;
  const dimsText = target.dims ? `${target.dims} numbers` : "numbers";
  const results: CheckResult[] = [];
  let single: number[][] | undefined;
  let batch: number[][] | undefined;

  results.push(
    await runCheck(ctx, "embed.single", `1 vector of ${dimsText} for "${SINGLE_TEXT}"`, async () => {
      single = (await client.embed([SINGLE_TEXT], target.requestDimensions)).value;
      const pass = single.length === 1 && (target.dims === undefined || single[0]!.length === target.dims);
      return {
        pass,
        got: single.length === 1 ? `1 vector of ${single[0]!.length} numbers` : `${single.length} vectors`,
      };
    }),
  );
  results.push(
    await runCheck(
      ctx,
      "embed.batch",
      `${BATCH_TEXTS.length} vectors (4 zh + 4 en inputs), one per input`,
      async () => {
        batch = (await client.embed(BATCH_TEXTS, target.requestDimensions)).value;
        return { pass: batch.length === BATCH_TEXTS.length, got: `${batch.length} vectors` };
      },
    ),
  );

  const vectors = [...(single ?? []), ...(batch ?? [])];
  const because = "no vectors came back (see embed.single and embed.batch)";
  // Without an expected size the check is weaker (only "the same size everywhere"): the row says so and how to fix it.
  const dimsExpected = target.dims
    ? `${target.dims} dimensions in every vector${target.modelId ? ` (${target.modelId})` : ""}`
    : `the same dimension in every vector (size NOT checked: "${target.modelId ?? target.servedModel}" is not in the model catalogue; pass --dims N, or set the model's dimensions)`;
  if (vectors.length === 0) {
    results.push(
      skipped(ctx, "embed.dims", dimsExpected, because),
      skipped(ctx, "embed.finite", "only finite numbers", because),
    );
  } else {
    results.push(
      await runCheck(ctx, "embed.dims", dimsExpected, () => {
        const sizes = [...new Set(vectors.map((v) => v.length))];
        const pass = sizes.length === 1 && (target.dims === undefined || sizes[0] === target.dims);
        return {
          pass,
          got: sizes.length === 1 ? `${sizes[0]} in all ${vectors.length} vectors` : `mixed sizes ${sizes.join(", ")}`,
        };
      }),
      await runCheck(ctx, "embed.finite", "only finite numbers", () => {
        const bad = firstNonFinite(vectors);
        const total = vectors.reduce((n, v) => n + v.length, 0);
        return bad
          ? {
              pass: false,
              got: `${bad.count} non-finite value(s), first ${bad.value} at vector ${bad.vector}, position ${bad.position}`,
            }
          : { pass: true, got: `all ${total} values finite` };
      }),
    );
  }
  if (target.normalized) {
    const expected = `unit L2 norm (1 ± ${NORM_TOLERANCE}): the model normalises`;
    if (vectors.length === 0) results.push(skipped(ctx, "embed.norm", expected, because));
    else
      results.push(
        await runCheck(ctx, "embed.norm", expected, () => {
          const norms = vectors.map(norm);
          const lo = Math.min(...norms);
          const hi = Math.max(...norms);
          return { pass: norms.every((n) => Math.abs(n - 1) <= NORM_TOLERANCE), got: `norms ${fmt(lo)} to ${fmt(hi)}` };
        }),
      );
  }
  const consistencyExpected = `"${SINGLE_TEXT}" alone and in the batch: same vector (cosine ≥ ${CONSISTENCY_MIN_COSINE})`;
  if (single?.length === 1 && batch?.length === BATCH_TEXTS.length) {
    results.push(
      await runCheck(ctx, "embed.consistency", consistencyExpected, () => {
        const c = cosine(single![0]!, batch![BATCH_TEXTS.indexOf(SINGLE_TEXT)]!);
        return { pass: c >= CONSISTENCY_MIN_COSINE, got: `cosine ${fmt(c)}` };
      }),
    );
  } else results.push(skipped(ctx, "embed.consistency", consistencyExpected, "embed.single or embed.batch failed"));

  // One request for every similarity case: anchor, paraphrase, unrelated per language.
  const texts = SIMILARITY_CASES.flatMap((c) => [c.anchor, c.paraphrase, c.unrelated]);
  let simVectors: number[][] | undefined;
  let simError: unknown;
  try {
    simVectors = (await client.embed(texts, target.requestDimensions)).value;
  } catch (error) {
    simError = error;
  }
  for (const [i, c] of SIMILARITY_CASES.entries()) {
    results.push(
      await runCheck(ctx, `embed.similarity.${c.language}`, `"${c.anchor}": paraphrase closer than unrelated`, () => {
        if (simError) throw simError;
        if (!simVectors || simVectors.length !== texts.length)
          return { pass: false, got: `${simVectors?.length ?? 0} vectors for ${texts.length} inputs` };
        const [a, p, u] = [simVectors[3 * i]!, simVectors[3 * i + 1]!, simVectors[3 * i + 2]!];
        const close = cosine(a, p);
        const far = cosine(a, u);
        return { pass: close > far, got: `${fmt(close, 3)} ${close > far ? ">" : "≤"} ${fmt(far, 3)}` };
      }),
    );
  }
  return results;
}
