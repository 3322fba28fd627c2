import type { CheckResult } from "../report";
import { RERANK_EXAMPLE, SINGLE_TEXT, BATCH_TEXTS } from "../request-texts";
import { cosine } from "../vectors";
import { fmt, runCheck, skipped, type CheckContext } from "./context";
import { openaiInstalled } from "../openai-http";

/** float32 on the wire (base64) against the JSON floats of the same model: equal up to float32 rounding. */
const BASE64_MIN_COSINE = 0.9999;
const RERANK_TOP_N = 2;

/**
 * What a gateway target adds to the task checks: the calls as the official clients make them.
 * - embed: the official `openai` client with its defaults sends `encoding_format: base64` and decodes float32
 *   itself; its vectors must be the float answer's (a gateway that answers floats to a base64 request hands the
 *   client vectors of the wrong length).
 * - rerank: the Cohere v2 answer with `return_documents` and `top_n`: {id, model, results [{index,
 *   relevance_score, document {text}}], usage}, each document the caller's text at its index.
 */
export async function gatewayChecks(ctx: CheckContext): Promise<CheckResult[]> {
  return ctx.target.task === "embed" ? [await officialClientCheck(ctx)] : [await rerankShapeCheck(ctx)];
}

async function officialClientCheck(ctx: CheckContext): Promise<CheckResult> {
  const { client, target } = ctx;
  const texts = [SINGLE_TEXT, BATCH_TEXTS[BATCH_TEXTS.length - 1]!];
  const expected = `the official openai client (defaults: base64 on the wire) gets the ${texts.length} float vectors`;
  if (!(await openaiInstalled()))
    return skipped(
      ctx,
      "gateway.openai-client",
      expected,
      "the optional openai package is not installed (npm install openai)",
    );
  return runCheck(ctx, "gateway.openai-client", expected, async () => {
    const floats = (await client.embed(texts, target.requestDimensions)).value;
    const decoded = await client.officialClientEmbed(texts, target.requestDimensions);
    if (!decoded) return { pass: false, got: `the ${client.dialect.name} dialect has no OpenAI embeddings route` };
    if (decoded.length !== floats.length) return { pass: false, got: `${decoded.length} vectors` };
    const sizes = decoded.map((v, i) => `${v.length}/${floats[i]!.length}`);
    if (decoded.some((v, i) => v.length !== floats[i]!.length))
      return {
        pass: false,
        got: `vectors of ${sizes.join(", ")} numbers (client/float): base64 not float32, or floats sent to a base64 request`,
      };
    const worst = Math.min(...decoded.map((v, i) => cosine(v, floats[i]!)));
    return {
      pass: worst >= BASE64_MIN_COSINE,
      got: `${decoded.length} vectors of ${decoded[0]!.length} numbers, cosine to the float answer ≥ ${fmt(worst, 6)}`,
    };
  });
}

async function rerankShapeCheck(ctx: CheckContext): Promise<CheckResult> {
  const { client, target } = ctx;
  const docs = RERANK_EXAMPLE.documents;
  const path = client.dialect.rerank?.path(target.servedModel) ?? "/v1/rerank";
  return runCheck(
    ctx,
    "gateway.rerank-shape",
    `{id, model, results [{index, relevance_score, document.text}], usage} for top_n=${RERANK_TOP_N}, return_documents: each text the caller's at its index`,
    async () => {
      const body = (
        await client.postJson(path, {
          model: target.servedModel,
          query: RERANK_EXAMPLE.query,
          documents: docs,
          top_n: RERANK_TOP_N,
          return_documents: true,
        })
      ).value as Record<string, unknown> | undefined;
      const problems: string[] = [];
      if (typeof body?.id !== "string") problems.push("no string id");
      if (typeof body?.model !== "string") problems.push("no string model");
      if (typeof body?.usage !== "object" || body.usage === null) problems.push("no usage object");
      const results = Array.isArray(body?.results) ? (body.results as Record<string, unknown>[]) : undefined;
      if (!results) problems.push("no results list");
      else {
        if (results.length !== RERANK_TOP_N) problems.push(`${results.length} results for top_n=${RERANK_TOP_N}`);
        results.forEach((r, i) => {
          const index = r.index as number;
          const text = (r.document as { text?: unknown } | undefined)?.text;
          if (typeof r.relevance_score !== "number") problems.push(`results[${i}] has no relevance_score`);
          if (text !== docs[index]) problems.push(`results[${i}].document.text is not document ${index}'s text`);
        });
      }
      return problems.length
        ? { pass: false, got: problems.join("; ") }
        : {
            pass: true,
            got: `model "${String(body!.model)}", ${results!.length} results, indices [${results!.map((r) => r.index).join(", ")}], texts match`,
          };
    },
  );
}
