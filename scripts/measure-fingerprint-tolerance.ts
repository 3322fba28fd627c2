/**
 * How far apart are the probe vectors of one model under changes a deploy can bring? Runs the tiny encoder
 * (test/fixtures/tiny-encoder.ts: seeded weights, real probe texts) at float32, float16 and bfloat16, with CLS,
 * mean and mean-without-CLS pooling, with and without L2 normalisation, and prints each probe's cosine and norm
 * change between pairs of settings (min, quantiles, max over probes x seeds). It is a toy encoder, not a real
 * model: no package reachable here ships a real model's weights (docs/model-changes.md lists what was searched).
 * docs/model-changes.md explains the default tolerance chosen from it.
 *   npx tsx scripts/measure-fingerprint-tolerance.ts [--seeds 3]
 */
import { EMBED_PROBES } from "../components/fingerprint/probes";
import { decodeHalf, encodeHalf } from "../components/fingerprint/float16";
import { TinyEncoder, type EncoderOptions } from "../test/fixtures/tiny-encoder";

const seedsArg = process.argv.indexOf("--seeds");
const seeds = seedsArg > 0 ? Number(process.argv[seedsArg + 1]) : 3;

const cos = (a: number[], b: number[]) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    dot += x * b[i]!;
    na += x * x;
    nb += b[i]! * b[i]!;
  });
  return dot / Math.sqrt(na * nb);
};
const norm = (a: number[]) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));

function compare(label: string, a: EncoderOptions, b: EncoderOptions) {
  const cosines: number[] = [];
  const normChanges: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const ea = new TinyEncoder({ ...a, seed });
    const eb = new TinyEncoder({ ...b, seed });
    for (const p of EMBED_PROBES) {
      const va = ea.embed(p.text);
      const vb = eb.embed(p.text);
      cosines.push(cos(va, vb));
      normChanges.push(Math.abs(norm(vb) / norm(va) - 1));
    }
  }
  cosines.sort((x, y) => x - y);
  const mean = cosines.reduce((s, x) => s + x, 0) / cosines.length;
  // The per-probe distribution (nearest-rank quantiles over probes x seeds): the check takes the worst probe.
  const q = (f: number) => cosines[Math.min(cosines.length - 1, Math.floor(f * cosines.length))]!.toFixed(6);
  console.log(
    `${label.padEnd(52)} cosine min ${cosines[0]!.toFixed(6)} p5 ${q(0.05)} p25 ${q(0.25)} median ${q(0.5)} p75 ${q(0.75)} mean ${mean.toFixed(6)} max ${cosines[cosines.length - 1]!.toFixed(6)}; norm change max ${(Math.max(...normChanges) * 100).toFixed(3)} %`,
  );
}

console.log(`${EMBED_PROBES.length} probes x ${seeds} seeds (128 dims, 6 layers)`);
compare("float32 vs bfloat16 (same pooling)", { precision: "float32" }, { precision: "bfloat16" });
compare("float32 vs float16 (same pooling)", { precision: "float32" }, { precision: "float16" });
compare("float16 vs bfloat16 (same pooling)", { precision: "float16" }, { precision: "bfloat16" });
compare("pooling mean vs mean-without-CLS (float32)", { pooling: "mean" }, { pooling: "mean-without-cls" });
compare("pooling CLS vs mean (float32)", { pooling: "cls" }, { pooling: "mean" });
compare("normalised vs not (float32, CLS)", { normalize: true }, { normalize: false });
// The fingerprint keeps unit vectors as float16: what that costs alone.
{
  const e = new TinyEncoder({ seed: 1 });
  const worst = Math.min(
    ...EMBED_PROBES.map((p) => {
      const v = e.embed(p.text);
      return cos(v, decodeHalf(encodeHalf(v)));
    }),
  );
  console.log(`${"float16 storage of a float32 unit vector".padEnd(52)} cosine min ${worst.toFixed(8)}`);
}
