import { guarded } from "../admission";
import { base64Float32, parseEmbeddings } from "../api";
import { embed } from "../engine";
import { badRequest } from "../errors";
import { countInvalid, engineCall, tokenBound, type ApiDeps, type ApiHandler } from "./api";

/** Bytes of one number in an engine's JSON vector, at most ("-0.012345678901234567," and a margin). */
const BYTES_PER_NUMBER = 32;

/** POST /v1/embeddings (OpenAI's shape). */
export function embeddingsHandler(deps: ApiDeps): ApiHandler {
  return async (body, req, ctx) => {
    const r = parseEmbeddings(body);
    // Waits for a ready pod when the model has none (wake queue), or takes the alias' fallback.
    const route = await deps.admission.ready(
      ctx,
      deps.admission.admit(ctx, r.model, "embed", r.inputs.length),
      req.headers.prefer,
    );
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
    await deps.admission.reserve(ctx, r.inputs.length, () => tokenBound(r.inputs, m.maxTokens));
    const dims = r.dimensions ?? m.dims;
    const answerBound = dims ? r.inputs.length * (dims * BYTES_PER_NUMBER + 256) + 65536 : Infinity;
    const out = await deps.admission.whileWaking(route, req.headers.prefer, () =>
      guarded(route, countInvalid(deps, m.name), () =>
        embed(route.group, m, r.inputs, r.dimensions, engineCall(deps, route, ctx, answerBound)),
      ),
    );
    ctx.upstream = out.upstream;
    ctx.attempts = out.attempts;
    ctx.inputs = r.inputs.length;
    ctx.inputTokens = out.tokens ?? 0;
    ctx.usage = { model: m.name, tokens: out.tokens, inputs: r.inputs.length };
    return {
      object: "list",
      data: out.value.map((v, index) => ({
        object: "embedding",
        index,
        embedding: r.encoding === "base64" ? base64Float32(v) : v,
      })),
      model: m.name,
      usage: { prompt_tokens: ctx.inputTokens, total_tokens: ctx.inputTokens },
    };
  };
}
