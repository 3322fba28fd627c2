// The playground's logic without the page: parsing the inputs, the vector maths, the order comparison, the
// request snippets and the error text. Plain ES module (no build step); unit-tested in test/playground-lib.test.ts.

/** The built-in rerank example: with a good reranker the asyncio+aiohttp document comes first. */
export const EXAMPLE_QUERY = "如何实现Python中的异步爬虫";
export const EXAMPLE_DOCUMENTS = [
  "使用requests库发送HTTP请求配合多线程提高效率。",
  "利用asyncio和aiohttp库构建异步网络爬取程序。",
  "Scrapy框架支持中间件扩展适合大规模抓取任务。",
];

/**
 * Texts from a text box: a JSON array (of strings or {text} objects) when the box starts with "[", otherwise one
 * text per non-empty line. Throws an Error with a message for the page when the JSON is not such an array.
 */
export function parseTexts(raw) {
  const text = raw.trim();
  if (!text) return [];
  if (!text.startsWith("[")) return text.split(/\r?\n/).filter((line) => line.trim() !== "");
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`The documents start with "[" but are not valid JSON: ${e.message}`);
  }
  if (!Array.isArray(value)) throw new Error("The JSON must be an array of strings or {text} objects.");
  return value.map((d, i) => {
    if (typeof d === "string") return d;
    if (d && typeof d === "object" && typeof d.text === "string") return d.text;
    throw new Error(`Item ${i} of the JSON array is neither a string nor an object with a "text" string.`);
  });
}

export function norm(v) {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

export function cosine(a, b) {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  const n = norm(a) * norm(b);
  return n === 0 ? 0 : dot / n;
}

/** The symmetric matrix of pairwise cosine similarities. */
export function similarityMatrix(vectors) {
  return vectors.map((a) => vectors.map((b) => cosine(a, b)));
}

/** Little-endian float32 from base64 (what encoding_format "base64" returns). */
export function decodeBase64Float32(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const out = new Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * Bar widths in [0, 1] for scores: as they are when every score lies in [0, 1] (a cross-encoder's sigmoid), else
 * scaled between the lowest and the highest (raw logits), so the highest score always draws the longest bar.
 */
export function barWidths(scores) {
  if (scores.every((s) => s >= 0 && s <= 1)) return scores.slice();
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  return scores.map((s) => (hi === lo ? 1 : 0.05 + (0.95 * (s - lo)) / (hi - lo)));
}

/**
 * Where two rankings (lists of original document indices, best first) disagree: for each rank of `a`, the rank
 * the same document has in `b` (undefined when b cut it off with top_n) and whether it moved.
 */
export function orderDiff(a, b) {
  return a.map((index, rank) => {
    const other = b.indexOf(index);
    return { index, rank, otherRank: other === -1 ? undefined : other, moved: other !== rank };
  });
}

/** Colour of a heat-map cell for a cosine similarity in [-1, 1]: white at 0 and below, deep blue at 1. */
export function heatColour(similarity) {
  const t = Math.max(0, Math.min(1, similarity));
  const l = Math.round(97 - 55 * t);
  return `hsl(215 80% ${l}%)`;
}

const shellQuote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The exact request as a curl command; the key is read from $RETRIEVAL_API_KEY, never written out. */
export function curlFor(baseUrl, path, body) {
  return [
    `curl -sS ${shellQuote(baseUrl + path)}`,
    `  -H 'Content-Type: application/json'`,
    `  -H "Authorization: Bearer $RETRIEVAL_API_KEY"`,
    `  -d ${shellQuote(JSON.stringify(body))}`,
  ].join(" \\\n");
}

const py = (value) => JSON.stringify(value, null, 4).replace(/\n/g, "\n    ");

/** The same embeddings request with the official OpenAI Python client. */
export function openaiCodeFor(baseUrl, body) {
  const args = [`model=${JSON.stringify(body.model)}`, `input=${py(body.input)}`];
  if (body.encoding_format) args.push(`encoding_format=${JSON.stringify(body.encoding_format)}`);
  if (body.dimensions !== undefined) args.push(`dimensions=${body.dimensions}`);
  return [
    "import os",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${JSON.stringify(`${baseUrl}/v1`)}, api_key=os.environ["RETRIEVAL_API_KEY"])`,
    `response = client.embeddings.create(\n    ${args.join(",\n    ")},\n)`,
    "print(len(response.data[0].embedding))",
  ].join("\n");
}

/**
 * What the page says about a failed call: the gateway's own message (OpenAI error shape), plus what to do for the
 * statuses a user can act on. `retryAfter` is the Retry-After header (seconds), `bodyText` the raw answer.
 */
export function errorText(status, retryAfter, bodyText) {
  let message;
  try {
    const parsed = JSON.parse(bodyText);
    if (parsed && parsed.error && typeof parsed.error.message === "string") message = parsed.error.message;
  } catch {
    // not JSON: a proxy in front of the gateway answered (e.g. NGINX's own 413 page)
  }
  message ??= `HTTP ${status} without a gateway error body${
    bodyText
      ? ` (${bodyText
          .replace(/<[^>]*>/g, " ")
          .replace(/\s+/g, " ")
          .trim()
          .slice(0, 120)})`
      : ""
  }.`;
  const hint = {
    401: "Check the API key above.",
    404: "Pick a model from the list (reload the models).",
    413: "Send fewer or shorter texts.",
    429: retryAfter ? `Retry in ${retryAfter} s.` : "Retry later.",
    503: retryAfter ? `Retry in ${retryAfter} s.` : "The model is unavailable; retry later.",
  }[status];
  // The gateway's 429 already says "Retry after N s."; say it only when the message does not.
  const said = (status === 429 || status === 503) && /retry after/i.test(message);
  return `${status}: ${message}${hint && !said ? ` ${hint}` : ""}`;
}
