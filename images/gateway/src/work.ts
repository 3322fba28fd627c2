/**
 * How much work a request gives an engine, estimated before the call: what per-pod routing balances (least
 * outstanding work) so that a few long reranks do not pile onto one GPU. An encoder's cost grows with the tokens
 * it runs: for embeddings the sum of the inputs' tokens (inputs x tokens), for rerank every document is scored
 * together with the query (documents x (query + document tokens)). Tokens are estimated from characters (about
 * 4 per token for English, fewer for CJK, where 1 character is about 1 token), capped at the model's maximum.
 */
/** A UTF-16 unit of CJK and later blocks (>= U+2E80, surrogates included): what the count below looks for. */
const CJK_UNIT = /[\u2e80-\uffff]/;

function estimateTokens(text: string, maxTokens: number): number {
  // The first 2 KB tell the script; longer texts are capped at maxTokens anyway.
  const n = Math.min(text.length, 2048);
  let cjk = 0;
  // Most texts have no such unit: one native regex test instead of a loop over every character (a measurable
  // share of a small rerank's CPU); the count runs only when there is something to count.
  if (CJK_UNIT.test(n === text.length ? text : text.slice(0, n)))
    for (let i = 0; i < n; i++) if (text.charCodeAt(i) >= 0x2e80) cjk++;
  const cjkShare = n ? cjk / n : 0;
  const tokens = Math.ceil(text.length * (cjkShare + (1 - cjkShare) / 4)) + 2;
  return Math.max(1, Math.min(maxTokens, tokens));
}

export interface WorkRequest {
  readonly inputs?: readonly string[];
  readonly query?: string;
  readonly documents?: readonly string[];
}

export function requestWork(r: WorkRequest, maxTokens: number): number {
  if (r.inputs) return r.inputs.reduce((s, x) => s + estimateTokens(x, maxTokens), 0);
  if (r.documents) {
    const q = estimateTokens(r.query ?? "", maxTokens);
    return r.documents.reduce((s, d) => s + Math.min(maxTokens, q + estimateTokens(d, maxTokens)), 0);
  }
  return 1;
}

/**
 * The sequences a request puts in an engine's batch: one per embedding input, one per rerank document (each is
 * scored with the query as one sequence). Fair admission counts these against what the engine batches per pod.
 */
export function sequencesOf(r: WorkRequest): number {
  return Math.max(1, r.inputs?.length ?? r.documents?.length ?? 1);
}
