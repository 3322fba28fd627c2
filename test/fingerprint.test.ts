import { describe, expect, it } from "vitest";
import { decodeHalf, encodeHalf, fromHalfBits, roundBfloat16, toHalfBits } from "../components/fingerprint/float16";
import { agreement, kendallTau, ndcgAgainst, topKOverlap } from "../components/fingerprint/ranking";
import {
  DEFAULT_TOLERANCE,
  compareEmbed,
  compareRerank,
  confirmationId,
  driftMessage,
  embedFingerprint,
  rerankFingerprint,
  type FingerprintKey,
} from "../components/fingerprint/fingerprint";
import { EMBED_PROBES, RERANK_PROBES, probesFor } from "../components/fingerprint/probes";
import { TinyEncoder, type EncoderOptions } from "./fixtures/tiny-encoder";

const KEY: FingerprintKey = {
  modelId: "BAAI/bge-small-zh-v1.5",
  revision: "7999e1d",
  engine: "vllm",
  engineVersion: "v0.27.1",
  dtype: "float16",
  dimensions: 128,
};

const probes = probesFor(EMBED_PROBES, ["zh", "en"]);
/** Probe vectors per encoder setting, computed once (the encoder runs in plain TypeScript). */
const computed = new Map<string, [string, number[]][]>();
const vectors = (o: EncoderOptions) => {
  const k = JSON.stringify(o);
  if (!computed.has(k)) {
    const e = new TinyEncoder(o);
    computed.set(
      k,
      probes.map((p) => [p.id, e.embed(p.text)]),
    );
  }
  return new Map(computed.get(k)!.map(([id, v]) => [id, [...v]]));
};

describe("float16", () => {
  it("encodes the values IEEE 754 names, rounding half to even", () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(70000)).toBe(0x7c00); // overflow: Infinity
    expect(toHalfBits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalfBits(0.1)).toBe(0x2e66);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // a tie goes to the even mantissa
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(fromHalfBits(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });

  it("round-trips a vector within float16 precision, 2 bytes a value", () => {
    const v = [0.5, -0.25, 0.0312, 1e-3, -0.9999];
    const enc = encodeHalf(v);
    expect(Buffer.from(enc, "base64")).toHaveLength(10);
    decodeHalf(enc).forEach((x, i) => expect(Math.abs(x - v[i]!)).toBeLessThanOrEqual(Math.abs(v[i]!) * 2 ** -11));
    expect(() => decodeHalf(Buffer.from([1, 2, 3]).toString("base64"))).toThrow(/even byte count, got 3/);
  });

  it("rounds to bfloat16: 8 bits of mantissa", () => {
    expect(roundBfloat16(1 + 2 ** -8)).toBe(1); // tie to even
    expect(roundBfloat16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6);
    expect(roundBfloat16(0.1)).toBe(0.10009765625);
  });
});

describe("ranking agreement", () => {
  const ref = ["a", "b", "c", "d", "e", "f"];
  it("Kendall tau: 1 for the same order, -1 reversed, one adjacent swap of six = 13/15", () => {
    expect(kendallTau(ref, ref)).toBe(1);
    expect(kendallTau(ref, [...ref].reverse())).toBe(-1);
    expect(kendallTau(ref, ["b", "a", "c", "d", "e", "f"])).toBeCloseTo(13 / 15, 10);
    expect(kendallTau(["a"], ["a"])).toBeNaN();
  });
  it("top-k overlap and NDCG against the reference order", () => {
    expect(topKOverlap(ref, ["c", "b", "a", "d", "e", "f"], 3)).toBe(1);
    expect(topKOverlap(ref, ["d", "e", "a", "b", "c", "f"], 3)).toBeCloseTo(1 / 3);
    expect(topKOverlap(ref, ["b", "a"], 1)).toBe(0);
    expect(ndcgAgainst(ref, ref)).toBe(1);
    const swapped = ndcgAgainst(ref, ["b", "a", "c", "d", "e", "f"]);
    const reversed = ndcgAgainst(ref, [...ref].reverse());
    expect(swapped).toBeLessThan(1);
    expect(reversed).toBeLessThan(swapped);
    expect(agreement(ref, ref)).toEqual({ kendallTau: 1, top1: 1, top3: 1, top10: 1, ndcgAt10: 1 });
  });
});

describe("probes", () => {
  it("a few dozen texts, per language; a model of an uncovered language gets them all", () => {
    expect(EMBED_PROBES.length).toBeGreaterThanOrEqual(24);
    expect(new Set(EMBED_PROBES.map((p) => p.id)).size).toBe(EMBED_PROBES.length);
    expect(probesFor(EMBED_PROBES, ["en"]).every((p) => p.language === "en")).toBe(true);
    expect(probesFor(EMBED_PROBES, ["fr"])).toHaveLength(EMBED_PROBES.length);
    expect(probesFor(RERANK_PROBES, ["zh"]).map((p) => p.id)).toEqual(["zh-r1", "zh-r2", "zh-r3"]);
  });
});

describe("embedding fingerprints (tiny encoder: real arithmetic on the probe texts)", () => {
  const baseline = { precision: "float16", pooling: "mean" } as const;
  const recorded = embedFingerprint(
    KEY,
    [...vectors(baseline)].map(([id, vector]) => ({ id, vector })),
  );

  it("is compact: 2 bytes a dimension", () => {
    expect(Buffer.from((recorded.probes[0] as { unit: string }).unit, "base64")).toHaveLength(KEY.dimensions * 2);
    expect(recorded.id).toMatch(/^fp-[0-9a-f]{12}$/);
  });

  it("the same model again, and bf16 instead of fp16, pass", () => {
    expect(compareEmbed(recorded, vectors(baseline)).pass).toBe(true);
    const bf16 = compareEmbed(recorded, vectors({ ...baseline, precision: "bfloat16" }));
    expect(bf16.pass).toBe(true);
    expect(bf16.minSimilarity).toBeGreaterThan(0.9999);
  });

  it("a pooling change (mean now skips the CLS token) fails on the cosine", () => {
    const c = compareEmbed(recorded, vectors({ ...baseline, pooling: "mean-without-cls" }));
    expect(c.pass).toBe(false);
    expect(c.minSimilarity).toBeLessThan(DEFAULT_TOLERANCE.minCosine);
    expect(c.summary).toMatch(/lowest per-probe cosine 0\.99\d\d \(probe \S+; tolerance ≥ 0\.999\)/);
  });

  it("a normalisation change (no more L2 normalisation) fails on the norm, cosine unchanged", () => {
    const c = compareEmbed(recorded, vectors({ ...baseline, normalize: false }));
    expect(c.pass).toBe(false);
    expect(c.minSimilarity).toBeGreaterThan(0.9999);
    expect(c.summary).toMatch(/largest norm change \d+\.\d\d % .*tolerance ≤ 2\.0 %/);
  });

  it("permuted dimensions fail, and the message names the model, what changed and both fixes", () => {
    const v = vectors(baseline);
    const permuted = new Map([...v].map(([id, x]) => [id, [...x.slice(64), ...x.slice(0, 64)]]));
    const now = embedFingerprint(
      { ...KEY, engineVersion: "v0.28.0", dtype: "bfloat16" },
      [...permuted].map(([id, vector]) => ({ id, vector })),
    );
    const c = compareEmbed(recorded, permuted);
    expect(c.pass).toBe(false);
    expect(c.minSimilarity).toBeLessThan(0.9);
    const msg = driftMessage("bge-small", "models[1]", recorded, now, c);
    expect(msg).toContain("bge-small (BAAI/bge-small-zh-v1.5): the vectors drifted");
    expect(msg).toContain("What changed: engine version v0.27.1 -> v0.28.0, dtype float16 -> bfloat16.");
    expect(msg).toContain("Fix: revert (set engineVersion: v0.27.1, dtype: float16 again)");
    expect(msg).toContain(`models[1].reindexConfirmed: "${confirmationId(recorded, now.key)}"`);
  });

  it("a missing probe or other dimensions never passes", () => {
    const v = vectors(baseline);
    v.delete(probes[0]!.id);
    const c = compareEmbed(recorded, v);
    expect(c.pass).toBe(false);
    expect(c.missing).toEqual([probes[0]!.id]);
    const short = new Map([...vectors(baseline)].map(([id, x]) => [id, x.slice(0, 64)]));
    expect(compareEmbed(recorded, short).pass).toBe(false);
  });
});

describe("rerank fingerprints", () => {
  const scores = new Map(RERANK_PROBES.map((p) => [p.id, [8.1, 6.5, 2.2, 0.3, -4.2, -6.0]]));
  const recorded = rerankFingerprint(
    { ...KEY, dimensions: 0 },
    [...scores].map(([id, s]) => ({ id, scores: s })),
  );

  it("small score noise passes; a swap of the top two documents passes tau but a bigger reshuffle fails", () => {
    const noisy = new Map([...scores].map(([id, s]) => [id, s.map((x) => x + 0.05)]));
    expect(compareRerank(recorded, noisy).pass).toBe(true);
    const reshuffled = new Map([...scores].map(([id]) => [id, [2.2, -4.2, 8.1, -6.0, 6.5, 0.3]]));
    const c = compareRerank(recorded, reshuffled);
    expect(c.pass).toBe(false);
    expect(c.summary).toMatch(/lowest Kendall tau -?0\.\d{4} .*lowest top-3 overlap/);
  });

  it("scores that keep the order but move by more than 5 % of the range fail", () => {
    const scaled = new Map([...scores].map(([id, s]) => [id, s.map((x) => x * 1.5)]));
    const c = compareRerank(recorded, scaled);
    expect(c.minSimilarity).toBe(1);
    expect(c.pass).toBe(false);
    expect(c.summary).toMatch(/largest score change \d+\.\d % of the probe's range/);
  });
});
