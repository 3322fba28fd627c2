import {
  DialectError,
  dialectNamed,
  type EndpointDialect,
  type HttpDialect,
} from "../../../components/serving/dialects";
import type { RuntimeModel } from "../../../components/gateway/runtime-config";
import { GatewayError, unavailable, UpstreamInvalid } from "./errors";
import type { UpstreamAnswer, UpstreamGroup } from "./upstream";
import { requestWork, sequencesOf, type WorkRequest } from "./work";

/**
 * The gateway's only engine knowledge is the model's dialect (components/serving/dialects): it builds the
 * engine's body, reads its answer and says how many inputs one call may carry. Calls above that limit are
 * split and the answers merged, with rerank indices shifted back to the caller's list.
 */
export interface EngineCall {
  readonly headers: Readonly<Record<string, string>>;
  readonly observe?: (upstream: string, seconds: number) => void;
  /** Largest answer read per engine call. */
  readonly maxBytes: number;
  /** Takes answer bytes from the instance's budget. */
  readonly take?: (bytes: number) => boolean;
  /** Where an engine's own error text goes (our log, never the caller). */
  readonly log?: (message: string) => void;
  /** The caller's key name: fair admission queues per key (fair-queue.ts). */
  readonly key?: string;
}

interface EngineResult<T> {
  readonly value: T;
  /** Input tokens the engine reported (sum over split calls); undefined when it reports none. */
  readonly tokens: number | undefined;
  readonly upstream: string;
  readonly attempts: number;
}

export function dialectOf(model: RuntimeModel): HttpDialect {
  const d = dialectNamed(model.dialect);
  if (!d) throw new Error(`model ${model.name}: unknown dialect ${model.dialect}`);
  return d;
}

/** Engine 4xx statuses that are about the request's own content (too long an input, a bad parameter). */
const CALLER_FAULTS = new Set([400, 413, 422]);

/** An engine's error text for our log: one line, clipped (it may name internal hosts; callers never see it). */
const engineText = (body: string) => body.slice(0, 500).replace(/[^\x20-\x7e]+/g, " ");

/**
 * An engine answer that is not a success, in our words (never the engine's body, which may carry internal host
 * names: it goes to the log). 400/413/422 are the caller's request: 400, not an engine failure. Any other 4xx
 * (401/403: the engine refuses the gateway itself; 404: it does not serve the model) is the engine's: 502.
 */
function engineFailure(model: string, a: UpstreamAnswer, call: EngineCall): GatewayError {
  call.log?.(`engine ${a.upstream} for ${model} answered ${a.status}: ${engineText(a.body)}`);
  if (a.status === 503 || a.status === 502 || a.status === 429) {
    const retry = a.header("retry-after");
    return unavailable(
      `${model} is unavailable (the engine answered ${a.status}).`,
      a.status === 429 ? "upstream_overloaded" : "upstream_unavailable",
      retry && /^\d{1,4}$/.test(retry) ? { "retry-after": retry } : {},
    );
  }
  if (CALLER_FAULTS.has(a.status))
    return new GatewayError(
      400,
      "invalid_request_error",
      "upstream_rejected",
      `${model} refused the request (HTTP ${a.status}): an input may be longer than the model takes, or a parameter is out of range.`,
    );
  return new GatewayError(
    502,
    "upstream_error",
    "upstream_error",
    `${model} failed (the engine answered ${a.status}).`,
  );
}

async function callOnce<Req, Res>(
  group: UpstreamGroup,
  model: RuntimeModel,
  endpoint: EndpointDialect<Req, Res>,
  request: Req,
  call: EngineCall,
): Promise<EngineResult<Res>> {
  const answer = await group.call({
    path: endpoint.path(model.name),
    body: endpoint.build(request),
    headers: call.headers,
    maxBytes: call.maxBytes,
    ...(call.observe ? { observe: call.observe } : {}),
    ...(call.take ? { take: call.take } : {}),
    work: requestWork(request as WorkRequest, model.maxTokens),
    sequences: sequencesOf(request as WorkRequest),
    ...(call.key ? { key: call.key } : {}),
  });
  if (answer.status !== 200) throw engineFailure(model.name, answer, call);
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    throw new UpstreamInvalid(model.name, "not_json");
  }
  try {
    return {
      value: endpoint.parse(parsed, request),
      tokens: endpoint.tokens?.(parsed, answer.header),
      upstream: answer.upstream,
      attempts: answer.attempts,
    };
  } catch (e) {
    if (e instanceof DialectError) {
      call.log?.(`engine ${answer.upstream} for ${model.name}: ${e.message.slice(0, 300)}`);
      throw new UpstreamInvalid(model.name, "shape");
    }
    throw e;
  }
}

function chunks<T>(items: readonly T[], size: number | undefined): { offset: number; items: T[] }[] {
  if (!size || items.length <= size) return [{ offset: 0, items: [...items] }];
  const out: { offset: number; items: T[] }[] = [];
  for (let i = 0; i < items.length; i += size) out.push({ offset: i, items: items.slice(i, i + size) });
  return out;
}

const sumTokens = (parts: readonly { tokens: number | undefined }[]) =>
  parts.every((p) => p.tokens === undefined) ? undefined : parts.reduce((s, p) => s + (p.tokens ?? 0), 0);

export async function embed(
  group: UpstreamGroup,
  model: RuntimeModel,
  inputs: readonly string[],
  dimensions: number | undefined,
  call: EngineCall,
): Promise<EngineResult<number[][]>> {
  const endpoint = dialectOf(model).embed!;
  const parts = await Promise.all(
    chunks(inputs, endpoint.maxBatch).map((c) =>
      callOnce(
        group,
        model,
        endpoint,
        { model: model.name, inputs: c.items, ...(dimensions ? { dimensions } : {}) },
        call,
      ),
    ),
  );
  const vectors = parts.flatMap((p) => p.value);
  checkVectors(model, vectors, inputs.length, dimensions ?? model.dims);
  return {
    value: vectors,
    tokens: sumTokens(parts),
    upstream: parts[0]!.upstream,
    attempts: Math.max(...parts.map((p) => p.attempts)),
  };
}

/**
 * An embeddings answer may be served only if it has one vector per input, every vector of the expected size (the
 * requested `dimensions`, else the model's; unknown: all alike) and every number finite (`1e999` parses as
 * Infinity; NaN or null never reach here as numbers). Order and index completeness are the dialect's check.
 */
function checkVectors(model: RuntimeModel, vectors: readonly number[][], inputs: number, dims: number | undefined) {
  if (vectors.length !== inputs) throw new UpstreamInvalid(model.name, "count");
  const size = dims ?? vectors[0]?.length;
  for (const v of vectors) {
    if (v.length !== size || size === 0) throw new UpstreamInvalid(model.name, "dims");
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new UpstreamInvalid(model.name, "not_finite");
  }
}

const byRank = (a: Scored, b: Scored) => b.score - a.score || a.index - b.index;
const isRanked = (list: readonly Scored[]) => {
  for (let i = 1; i < list.length; i++) if (byRank(list[i - 1]!, list[i]!) > 0) return false;
  return true;
};

export interface Scored {
  readonly index: number;
  readonly score: number;
}

/** Scores for every document, sorted by score, indices into `documents`. */
export async function rerank(
  group: UpstreamGroup,
  model: RuntimeModel,
  query: string,
  documents: readonly string[],
  call: EngineCall,
): Promise<EngineResult<Scored[]>> {
  const endpoint = dialectOf(model).rerank!;
  // One finite score per document (the engine is never sent top_n), indices in range and unique.
  const checked = (r: EngineResult<Scored[]>, size: number) => {
    if (r.value.length !== size) throw new UpstreamInvalid(model.name, "count");
    const seen = new Uint8Array(size);
    for (const x of r.value) {
      if (!Number.isInteger(x.index) || x.index < 0 || x.index >= size || seen[x.index])
        throw new UpstreamInvalid(model.name, "index");
      if (!Number.isFinite(x.score)) throw new UpstreamInvalid(model.name, "not_finite");
      seen[x.index] = 1;
    }
    return r;
  };
  // One call (the common case): no batches to merge, and most engines answer sorted already.
  if (!endpoint.maxBatch || documents.length <= endpoint.maxBatch) {
    const r = checked(
      await callOnce(group, model, endpoint, { model: model.name, query, documents }, call),
      documents.length,
    );
    const value = r.value.map((x) => ({ index: x.index, score: x.score }));
    if (!isRanked(value)) value.sort(byRank);
    return { ...r, value };
  }
  const parts = await Promise.all(
    chunks(documents, endpoint.maxBatch).map(async (c) => {
      const r = checked(
        await callOnce(group, model, endpoint, { model: model.name, query, documents: c.items }, call),
        c.items.length,
      );
      return { ...r, value: r.value.map((x) => ({ index: x.index + c.offset, score: x.score })) };
    }),
  );
  const merged = parts.flatMap((p) => p.value).sort(byRank);
  return {
    value: merged,
    tokens: sumTokens(parts),
    upstream: parts[0]!.upstream,
    attempts: Math.max(...parts.map((p) => p.attempts)),
  };
}
