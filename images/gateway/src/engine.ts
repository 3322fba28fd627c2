import {
  DialectError,
  dialectNamed,
  type EndpointDialect,
  type HttpDialect,
} from "../../../components/serving/dialects";
import type { RuntimeModel } from "../../../components/gateway/runtime-config";
import { GatewayError, unavailable } from "./errors";
import type { UpstreamAnswer, UpstreamGroup } from "./upstream";
import { requestWork, type WorkRequest } from "./work";

/**
 * The gateway's only engine knowledge is the model's dialect (components/serving/dialects): it builds the
 * engine's body, reads its answer and says how many inputs one call may carry. Calls above that limit are
 * split and the answers merged, with rerank indices shifted back to the caller's list.
 */
export interface EngineCall {
  readonly headers: Readonly<Record<string, string>>;
  readonly observe?: (upstream: string, seconds: number) => void;
  /** The caller's key name: fair admission queues per key (fair-queue.ts). */
  readonly key?: string;
}

export interface EngineResult<T> {
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

/** An engine answer that is not a success, in words for the caller (never the engine's body). */
function engineFailure(model: string, a: UpstreamAnswer): GatewayError {
  if (a.status === 503 || a.status === 502 || a.status === 429) {
    const retry = a.header("retry-after");
    return unavailable(
      `${model} is unavailable (the engine answered ${a.status}).`,
      a.status === 429 ? "upstream_overloaded" : "upstream_unavailable",
      retry && /^\d+$/.test(retry) ? { "retry-after": retry } : {},
    );
  }
  if (a.status >= 400 && a.status < 500) {
    // An engine's 4xx is about the request (too long an input, a bad parameter): pass its message, if it is text
    // in JSON, clipped; an HTML page or anything else becomes a generic message.
    let message = "";
    try {
      const j = JSON.parse(a.body) as { message?: unknown; error?: unknown; detail?: unknown };
      const m =
        j.message ??
        (typeof j.error === "object" && j.error ? (j.error as { message?: unknown }).message : j.error) ??
        j.detail;
      if (typeof m === "string") message = m.slice(0, 300);
    } catch {
      /* not JSON */
    }
    return new GatewayError(
      400,
      "invalid_request_error",
      "upstream_rejected",
      `${model} refused the request${message ? `: ${message}` : ` (HTTP ${a.status})`}.`,
    );
  }
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
    ...(call.observe ? { observe: call.observe } : {}),
    work: requestWork(request as WorkRequest, model.maxTokens),
    ...(call.key ? { key: call.key } : {}),
  });
  if (answer.status !== 200) throw engineFailure(model.name, answer);
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    throw new GatewayError(
      502,
      "upstream_error",
      "upstream_bad_response",
      `${model.name} answered with a body that is not JSON.`,
    );
  }
  try {
    return {
      value: endpoint.parse(parsed, request),
      tokens: endpoint.tokens?.(parsed, answer.header),
      upstream: answer.upstream,
      attempts: answer.attempts,
    };
  } catch (e) {
    if (e instanceof DialectError)
      throw new GatewayError(
        502,
        "upstream_error",
        "upstream_bad_response",
        `${model.name} answered in an unexpected shape.`,
      );
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
  if (vectors.length !== inputs.length)
    throw new GatewayError(
      502,
      "upstream_error",
      "upstream_bad_response",
      `${model.name} returned ${vectors.length} vectors for ${inputs.length} inputs.`,
    );
  return {
    value: vectors,
    tokens: sumTokens(parts),
    upstream: parts[0]!.upstream,
    attempts: Math.max(...parts.map((p) => p.attempts)),
  };
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
  const checked = (r: EngineResult<Scored[]>, size: number) => {
    const seen = new Uint8Array(size);
    for (const x of r.value) {
      if (x.index < 0 || x.index >= size || seen[x.index] || !Number.isFinite(x.score))
        throw new GatewayError(
          502,
          "upstream_error",
          "upstream_bad_response",
          `${model.name} returned an invalid ranking.`,
        );
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
