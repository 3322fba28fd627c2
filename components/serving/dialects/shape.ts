import { DialectError, type RerankResult } from "./types";

/**
 * Small, pure helpers the dialect parsers share: they read a JSON value and throw a DialectError that names the
 * place, what was expected and what came back, e.g.
 * `data[0].embedding: expected a list of numbers, got the string "oops"`.
 */

/** A short, human description of any JSON value (never the whole value: vectors are long). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing (field absent)";
  if (Array.isArray(value))
    return value.length === 0 ? "an empty list" : `a list of ${value.length} (first: ${describe(value[0])})`;
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
    case "number":
      return Number.isNaN(value) ? "NaN" : `the number ${value}`;
    case "boolean":
      return `${value}`;
    case "object": {
      const keys = Object.keys(value as object);
      return keys.length === 0
        ? "an empty object"
        : `an object with keys {${keys.slice(0, 8).join(", ")}${keys.length > 8 ? ", ..." : ""}}`;
    }
    default:
      return typeof value;
  }
}

export function fail(where: string, expected: string, got: unknown): never {
  throw new DialectError(`${where}: expected ${expected}, got ${describe(got)}`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function expectRecord(value: unknown, where: string, expected = "a JSON object"): Record<string, unknown> {
  if (!isRecord(value)) fail(where, expected, value);
  return value;
}

export function expectArray(value: unknown, where: string, expected = "a list"): unknown[] {
  if (!Array.isArray(value)) fail(where, expected, value);
  return value;
}

/**
 * A number. NaN and ±Infinity are accepted here (a server may emit them; the verifier's reader keeps them) so
 * that the caller's finiteness check reports where they are; null and strings are refused.
 */
export function expectNumber(value: unknown, where: string): number {
  if (typeof value !== "number") fail(where, "a number", value);
  return value;
}

function expectIndex(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) fail(where, "an integer index", value);
  return value;
}

function expectVector(value: unknown, where: string): number[] {
  const list = expectArray(value, where, "a list of numbers (one embedding)");
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== "number") fail(`${where}[${i}]`, "a number", list[i]);
  }
  return list as number[];
}

/** An OpenAI `/embeddings` body: `{data: [{index, embedding}]}`; vectors returned in `index` order. */
export function parseOpenAIEmbeddings(body: unknown, label: string): number[][] {
  const root = expectRecord(body, label, 'an OpenAI embeddings object {"data": [{"index", "embedding"}]}');
  const data = expectArray(root.data, `${label}.data`, "a list of {index, embedding}");
  const items = data.map((item, i) => {
    const where = `${label}.data[${i}]`;
    const rec = expectRecord(item, where, "an object {index, embedding}");
    const embedding = expectVector(rec.embedding, `${where}.embedding`);
    const index = rec.index === undefined ? i : expectIndex(rec.index, `${where}.index`);
    return { index, embedding };
  });
  items.sort((a, b) => a.index - b.index);
  // Indices must be 0..n-1, each once: a duplicate or a gap would pair a vector with the wrong input.
  items.forEach((x, i) => {
    if (x.index !== i) fail(`${label}.data`, "indices 0..n-1, each once", items.map((y) => y.index).slice(0, 20));
  });
  return items.map((x) => x.embedding);
}

/** A bare `[[floats], ...]` body (TEI /embed, KServe V1 predictions). */
export function parseVectorList(value: unknown, where: string): number[][] {
  const list = expectArray(value, where, "a list of vectors [[numbers], ...]");
  return list.map((v, i) => expectVector(v, `${where}[${i}]`));
}

/**
 * One rerank item: the score field and its name differ per engine (`relevance_score` vs `score`); `document` may
 * be a string, `{text}`, null or absent (not used by the checks). Returns {index, score}.
 */
function parseRerankItem(item: unknown, where: string, scoreField: "relevance_score" | "score"): RerankResult {
  const rec = expectRecord(item, where, `an object {index, ${scoreField}}`);
  if (!(scoreField in rec)) {
    const other = scoreField === "score" ? "relevance_score" : "score";
    const hint = other in rec ? ` (this body uses "${other}": wrong dialect?)` : "";
    throw new DialectError(`${where}.${scoreField}: expected a number, got ${describe(rec[scoreField])}${hint}`);
  }
  return {
    index: expectIndex(rec.index, `${where}.index`),
    score: expectNumber(rec[scoreField], `${where}.${scoreField}`),
  };
}

/** Cohere-style `{results: [{index, relevance_score, document?}]}`. */
export function parseResultsObject(body: unknown, label: string): RerankResult[] {
  const hint = Array.isArray(body) ? " (a bare list is the SGLang/TEI shape: wrong dialect?)" : "";
  if (!isRecord(body))
    throw new DialectError(
      `${label}: expected an object {"results": [{index, relevance_score}]}, got ${describe(body)}${hint}`,
    );
  const results = expectArray(body.results, `${label}.results`, "a list of {index, relevance_score}");
  return results.map((item, i) => parseRerankItem(item, `${label}.results[${i}]`, "relevance_score"));
}

/** SGLang/TEI-style bare list `[{index, score, ...}]`. */
export function parseBareScoreList(body: unknown, label: string): RerankResult[] {
  const hint =
    isRecord(body) && "results" in body ? ' (an object with "results" is the Cohere/vLLM shape: wrong dialect?)' : "";
  if (!Array.isArray(body))
    throw new DialectError(`${label}: expected a bare list [{index, score}], got ${describe(body)}${hint}`);
  return body.map((item, i) => parseRerankItem(item, `${label}[${i}]`, "score"));
}

/** Request body fields that are only sent when set. */
export function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** A non-negative integer at a path of a JSON value (usage figures), or undefined when absent or not a count. */
export function countAt(body: unknown, ...path: string[]): number | undefined {
  let v: unknown = body;
  for (const k of path) v = isRecord(v) ? v[k] : undefined;
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
}
