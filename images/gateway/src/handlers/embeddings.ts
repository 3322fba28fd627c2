import { guarded } from "../admission";
import { base64Float32, parseEmbeddings } from "../api";
import { embed } from "../engine";
import { badRequest } from "../errors";
import { engineCall, type ApiDeps, type ApiHandler } from "./api";

/** POST /v1/embeddings (OpenAI's shape). */
export function embeddingsHandler(deps: ApiDeps): ApiHandler {
  return async (body, req, ctx) => {
    const r = parseEmbeddings(body);
    const route = await deps.admission.admit(req, ctx, r.model, "embed", r.inputs.length);
    const m = route.model;
    if (r.dimensions !== undefined && r.dimensions !== m.dims) {
      if (!m.matryoshka)
        throw badRequest(
          `${m.name} has a fixed size of ${m.dims ?? "?"} dims; 'dimensions' is only for Matryoshka models.`,
          "dimensions",
        );
      if (m.dims && r.dimensions > m.dims)
        throw badRequest(`'dimensions' may be at most ${m.dims} for ${m.name}.`, "dimensions");
    }
    const out = await guarded(route, embed(route.group, m, r.inputs, r.dimensions, engineCall(deps, route, ctx)));
    const tokens = out.tokens ?? 0;
    deps.admission.count(ctx, m.name, tokens, { inputs: r.inputs.length });
    ctx.upstream = out.upstream;
    ctx.attempts = out.attempts;
    ctx.inputs = r.inputs.length;
    ctx.inputTokens = tokens;
    return {
      object: "list",
      data: out.value.map((v, index) => ({
        object: "embedding",
        index,
        embedding: r.encoding === "base64" ? base64Float32(v) : v,
      })),
      model: m.name,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  };
}
