import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { base64Float32 } from "../images/gateway/src/api";
import {
  barWidths,
  cosine,
  curlFor,
  decodeBase64Float32,
  errorText,
  openaiCodeFor,
  orderDiff,
  parseTexts,
  similarityMatrix,
} from "../images/gateway/playground/lib.js";

/** The playground's logic without a browser (images/gateway/playground/lib.js); the page: playground.test.ts. */
describe("texts from a text box", () => {
  it("one per non-empty line, Chinese and English alike", () => {
    expect(parseTexts("如何实现异步爬虫\n\n  \r\nasyncio and aiohttp\n")).toEqual([
      "如何实现异步爬虫",
      "asyncio and aiohttp",
    ]);
  });
  it("a pasted JSON array of strings or {text} objects (Cohere/Jina shapes)", () => {
    expect(parseTexts('[ "a\\nstill a", {"text": "b"} ]')).toEqual(["a\nstill a", "b"]);
  });
  it("a broken JSON array says what is wrong instead of sending lines of JSON", () => {
    expect(() => parseTexts('["a", ')).toThrow(/not valid JSON/);
    expect(() => parseTexts("[1]")).toThrow(/Item 0 .* neither a string nor an object/);
  });
});

describe("vectors", () => {
  it("decodes the gateway's base64 (little-endian float32) to the same numbers", () => {
    const v = [0.5, -0.25, 1e-7, 3.1415927];
    const back = decodeBase64Float32(base64Float32(v));
    expect(back).toHaveLength(4);
    back.forEach((x, i) => expect(x).toBeCloseTo(v[i]!, 6));
  });
  it("cosine similarity: 1 for the same direction, 0 for orthogonal, symmetric matrix", () => {
    expect(cosine([1, 2], [2, 4])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [0, 3])).toBe(0);
    const m = similarityMatrix([
      [1, 0],
      [1, 1],
      [0, 1],
    ]);
    expect(m[0]![1]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(m[1]![0]).toBe(m[0]![1]);
    expect(m[2]![2]).toBeCloseTo(1, 12);
  });
});

describe("rankings", () => {
  it("bars: sigmoid scores as they are; logits scaled so the best is the longest", () => {
    expect(barWidths([0.9, 0.1])).toEqual([0.9, 0.1]);
    const w = barWidths([4.2, -3, 0.5]);
    expect(w[0]).toBe(1);
    expect(w[1]).toBeCloseTo(0.05, 12);
    expect(w[2]).toBeGreaterThan(w[1]!);
  });
  it("orderDiff marks the ranks whose document differs and where it went (or that top_n cut it)", () => {
    expect(orderDiff([1, 0, 2], [1, 2])).toEqual([
      { index: 1, rank: 0, otherRank: 0, moved: false },
      { index: 0, rank: 1, otherRank: undefined, moved: true },
      { index: 2, rank: 2, otherRank: 1, moved: true },
    ]);
  });
});

describe("snippets of the exact request", () => {
  const body = { model: "emb-tei", input: ["it's 异步", 'say "hi" $HOME'], encoding_format: "float" };

  it("curl: the body survives the shell byte for byte (quotes, $, Chinese); the key is an env variable", () => {
    const curl = curlFor("http://127.0.0.1:8080", "/v1/embeddings", body);
    expect(curl).toContain('-H "Authorization: Bearer $RETRIEVAL_API_KEY"');
    // The same words with curl replaced by a printer of its arguments.
    const args = execFileSync("bash", ["-c", curl.replace(/^curl /, "printf '%s\\n' ")], {
      encoding: "utf8",
      env: { ...process.env, RETRIEVAL_API_KEY: "k" },
    }).split("\n");
    expect(args).toContain("http://127.0.0.1:8080/v1/embeddings");
    expect(args).toContain("Authorization: Bearer k");
    expect(JSON.parse(args[args.indexOf("-d") + 1]!)).toEqual(body);
  });

  it("OpenAI client code is valid Python with the same arguments", () => {
    const code = openaiCodeFor("http://127.0.0.1:8080", { ...body, dimensions: 256 });
    expect(code).toContain('client.embeddings.create(\n    model="emb-tei",');
    expect(code).toContain("dimensions=256");
    execFileSync("python3", ["-c", "import ast, sys; ast.parse(sys.stdin.read())"], { input: code });
  });
});

describe("error text", () => {
  const gw = (message: string) => JSON.stringify({ error: { message, type: "x", param: null, code: "y" } });

  it("the gateway's message with what to do", () => {
    expect(errorText(401, null, gw("Invalid API key."))).toBe("401: Invalid API key. Check the API key above.");
    expect(errorText(413, null, gw("The request body is larger than 100 bytes."))).toBe(
      "413: The request body is larger than 100 bytes. Send fewer or shorter texts.",
    );
  });
  it("429: the retry time from Retry-After unless the message already gives it", () => {
    expect(errorText(429, "7", gw("Over the daily document quota."))).toBe(
      "429: Over the daily document quota. Retry in 7 s.",
    );
    expect(errorText(429, "7", gw("Over the request rate of key a. Retry after 7 s."))).toBe(
      "429: Over the request rate of key a. Retry after 7 s.",
    );
  });
  it("an HTML answer of a proxy in front (NGINX's 413) becomes one readable line, never a page", () => {
    const html = "<html><head><title>413 Request Entity Too Large</title></head><body><h1>413</h1></body></html>";
    expect(errorText(413, null, html)).toBe(
      "413: HTTP 413 without a gateway error body (413 Request Entity Too Large 413). Send fewer or shorter texts.",
    );
  });
});
