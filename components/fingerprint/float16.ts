/**
 * IEEE 754 half precision (float16) and bfloat16 rounding, and a compact base64 form of a float16 vector.
 * Fingerprints keep each probe's unit vector as float16 (2 bytes a value, ~3 decimal digits: a stored cosine is
 * off by less than 1e-6) and its norm as a plain number. Pure; no typed Float16Array (Node 22 has none).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bit pattern nearest to `x` (round half to even; overflow to ±Infinity; NaN kept). */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit 1 in and round what falls off.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return half;
}

/** The number a float16 bit pattern stands for. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** `x` rounded to float16 precision. */
export const roundHalf = (x: number): number => fromHalfBits(toHalfBits(x));

/** `x` rounded to bfloat16 precision (float32's exponent, 8 bits of mantissa; round half to even). */
export function roundBfloat16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if (((bits >>> 23) & 0xff) === 0xff) return x;
  const rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
  u32[0] = rounded >>> 0;
  return f32[0]!;
}

/** A vector as base64 of little-endian float16 values. */
export function encodeHalf(values: readonly number[]): string {
  const buf = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => buf.writeUInt16LE(toHalfBits(v), i * 2));
  return buf.toString("base64");
}

/** The inverse of encodeHalf; throws on a body that is not whole float16 values. */
export function decodeHalf(base64: string): number[] {
  const buf = Buffer.from(base64, "base64");
  if (buf.length % 2 !== 0) throw new Error(`a float16 vector has an even byte count, got ${buf.length}`);
  const out = new Array<number>(buf.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = fromHalfBits(buf.readUInt16LE(i * 2));
  return out;
}
