import { guarded } from "../admission";
import { parseRerank } from "../api";
import { RerankCache } from "../cache";
import { rerank, type Scored } from "../engine";
import { engineCall, type ApiDeps, type ApiHandler } from "./api";

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
    const route = await deps.admission.admit(req, ctx, r.model, "rerank", r.documents.length);
    const m = route.model;
    let ranking: Scored[] | undefined;
    let tokens = 0;
    const key = route.cache ? RerankCache.key(m.name, r.query, r.documents) : undefined;
    if (route.cache && key) {
      ranking = route.cache.get(key);
      deps.metrics.cache.inc({ model: m.name, result: ranking ? "hit" : "miss" });
      ctx.cache = ranking ? "hit" : "miss";
      if (ranking) route.breaker.release();
    }
    if (!ranking) {
      const out = await guarded(route, rerank(route.group, m, r.query, r.documents, engineCall(deps, route, ctx)));
      ranking = out.value;
      tokens = out.tokens ?? 0;
      if (route.cache && key) route.cache.set(key, ranking);
      ctx.upstream = out.upstream;
      ctx.attempts = out.attempts;
    }
    deps.admission.count(ctx, m.name, tokens, { documents: r.documents.length });
    ctx.documents = r.documents.length;
    ctx.inputTokens = tokens;
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
      usage: { total_tokens: tokens },
      meta: { tokens: { input_tokens: tokens, output_tokens: 0 } },
    };
  };
}
