import { guarded } from "../admission";
import { parseRerank } from "../api";
import { RerankCache } from "../cache";
import { rerank, type Scored } from "../engine";
import { countInvalid, engineCall, tokenBound, type ApiDeps, type ApiHandler } from "./api";

/**
 * The rerank routes and whether each returns the documents by default: Jina and vLLM return them unless told
 * not to, Cohere v2 only when asked.
 */
export const RERANK_ROUTES: Readonly<Record<string, boolean>> = {
  "/v1/rerank": true,
  "/rerank": true,
  "/v2/rerank": false,
};

/** POST /v1/rerank, /rerank and /v2/rerank (Cohere v2, Jina and vLLM shapes), through the model's cache if any. */
export function rerankHandler(deps: ApiDeps, defaultDocs: boolean): ApiHandler {
  return async (body, req, ctx) => {
    const r = parseRerank(body, defaultDocs);
    // Waits for a ready pod when the model has none (wake queue), or takes the alias' fallback.
    const route = await deps.admission.ready(
      ctx,
      deps.admission.admit(ctx, r.model, "rerank", r.documents.length),
      req.headers.prefer,
    );
    const m = route.model;
    const queryBytes = Buffer.byteLength(r.query, "utf8");
    await deps.admission.reserve(ctx, r.documents.length, () => tokenBound(r.documents, m.maxTokens, queryBytes));
    let ranking: Scored[] | undefined;
    let tokens: number | undefined = 0;
    const key = route.cache
      ? RerankCache.key({
          model: m.name,
          query: r.query,
          documents: r.documents,
          topN: r.topN,
          returnDocuments: r.returnDocuments,
        })
      : undefined;
    if (route.cache && key) {
      ranking = route.cache.get(key, r.documents.length);
      deps.metrics.cache.inc({ model: m.name, result: ranking ? "hit" : "miss" });
      ctx.cache = ranking ? "hit" : "miss";
    }
    if (!ranking) {
      // Engines may echo every document (vLLM does): the answer is bounded by the documents plus ~256 bytes each.
      let docBytes = 0;
      for (const d of r.documents) docBytes += Buffer.byteLength(d, "utf8");
      const answerBound = 2 * docBytes + r.documents.length * 256 + 65536;
      const out = await deps.admission.whileWaking(route, req.headers.prefer, () =>
        guarded(route, countInvalid(deps, m.name), () =>
          rerank(route.group, m, r.query, r.documents, engineCall(deps, route, ctx, answerBound)),
        ),
      );
      ranking = out.value;
      tokens = out.tokens;
      if (route.cache && key) route.cache.set(key, ranking);
      ctx.upstream = out.upstream;
      ctx.attempts = out.attempts;
    }
    ctx.documents = r.documents.length;
    ctx.inputTokens = tokens ?? 0;
    ctx.usage = { model: m.name, tokens, documents: r.documents.length };
    deps.shadow?.offer(r.model, m.name, r.query, r.documents, ranking);
    const top = r.topN ? ranking.slice(0, r.topN) : ranking;
    return {
      id: ctx.id,
      model: m.name,
      results: top.map((x) => ({
        index: x.index,
        relevance_score: x.score,
        ...(r.returnDocuments ? { document: { text: r.documents[x.index]! } } : {}),
      })),
      usage: { total_tokens: ctx.inputTokens },
      meta: { tokens: { input_tokens: ctx.inputTokens, output_tokens: 0 } },
    };
  };
}
