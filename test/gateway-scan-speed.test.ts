import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { JsonShape } from "../images/gateway/src/json-shape";
import { requestWork } from "../images/gateway/src/work";

/**
 * The body's shape check and the work estimate take shortcuts for speed (native indexOf inside strings, a regex
 * before the CJK count): they must give exactly what the plain byte-by-byte and character-by-character versions
 * give, for any bytes cut into any chunks. The plain versions are written here as the specification.
 */
function plainShape(chunks: readonly Buffer[], maxDepth: number, maxItems: number): string | undefined {
  let depth = 0;
  let inString = false;
  let escaped = false;
  const isArray: boolean[] = [];
  const commas: number[] = [];
  for (const chunk of chunks)
    for (const c of chunk) {
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
        continue;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x5b || c === 0x7b) {
        if (++depth > maxDepth) return "too_deep";
        isArray[depth] = c === 0x5b;
        commas[depth] = 0;
      } else if (c === 0x5d || c === 0x7d) {
        if (depth > 0) depth--;
      } else if (c === 0x2c && depth > 0 && isArray[depth] && ++commas[depth]! >= maxItems) return "too_many_items";
    }
  return undefined;
}

function fedShape(chunks: readonly Buffer[], maxDepth: number, maxItems: number): string | undefined {
  const shape = new JsonShape(maxDepth, maxItems);
  for (const c of chunks) {
    const bad = shape.feed(c);
    if (bad) return bad;
  }
  return undefined;
}

/** Bytes that matter to the scan, and some that do not. */
const structural = fc.constantFrom(...'"\\[]{},a 1é'.split(""));
const bodyAndCuts = fc.tuple(
  fc.array(structural, { maxLength: 200, size: "max" }),
  fc.array(fc.nat({ max: 200 }), { maxLength: 6, size: "max" }),
);

/** The first `length` bytes, cut at the cut points before it: the chunks a reader would have had by then. */
function prefixChunks(bytes: Buffer, cuts: readonly number[], length: number): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c < length))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...points, length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

describe("the body's shape check with its shortcuts", () => {
  it("refuses exactly where the byte-by-byte scan refuses, for any bytes in any chunks", () => {
    fc.assert(
      fc.property(
        bodyAndCuts,
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        ([chars, cuts], d, items) => {
          const bytes = Buffer.from(chars.join(""), "utf8");
          // Every prefix: the verdict must change at the same byte, not only end the same.
          for (let length = 0; length <= bytes.length; length++) {
            const chunks = prefixChunks(bytes, cuts, length);
            expect(fedShape(chunks, d, items)).toBe(plainShape(chunks, d, items));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("escapes across chunk ends: a quote after a backslash that ends a chunk stays inside the string", () => {
    const chunks = [Buffer.from('{"input":["a\\'), Buffer.from('"[[[[[[[[[[",'), Buffer.from('"b"]}')];
    expect(fedShape(chunks, 4, 100)).toBeUndefined();
    expect(fedShape([Buffer.from('{"input":"\\\\"'), Buffer.from("[[[[[[")], 4, 100)).toBe("too_deep");
  });
});

/** The estimate as specified: CJK units (>= U+2E80) in the first 2,048 count one token each, the rest 1/4. */
function plainWork(texts: readonly string[], maxTokens: number): number {
  return texts.reduce((s, text) => {
    const n = Math.min(text.length, 2048);
    let cjk = 0;
    for (let i = 0; i < n; i++) if (text.charCodeAt(i) >= 0x2e80) cjk++;
    const share = n ? cjk / n : 0;
    return s + Math.max(1, Math.min(maxTokens, Math.ceil(text.length * (share + (1 - share) / 4)) + 2));
  }, 0);
}

describe("the work estimate with its shortcut", () => {
  it("equals the character-by-character count for Latin, CJK, fullwidth, emoji and mixed texts, short and long", () => {
    const piece = fc.constantFrom("word ", "语言模型", "🙂", "é", "x".repeat(700), "検索", "ＡＢＣ");
    const text = fc.array(piece, { maxLength: 12, size: "max" }).map((p) => p.join(""));
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 5 }), fc.integer({ min: 8, max: 8192 }), (inputs, max) => {
        expect(requestWork({ inputs }, max)).toBe(plainWork(inputs, max));
      }),
      { numRuns: 1000 },
    );
  });
});
