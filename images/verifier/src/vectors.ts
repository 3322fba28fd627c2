/** Vector arithmetic for the checks. Pure. */

export function norm(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/** Cosine similarity; NaN when either vector is zero or not finite (a failing comparison, never a pass). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0) return NaN;
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot / (norm(a) * norm(b));
}

/** The first non-finite value of a list of vectors, and how many there are. */
export function firstNonFinite(
  vectors: readonly (readonly number[])[],
): { vector: number; position: number; value: number; count: number } | undefined {
  let first: { vector: number; position: number; value: number } | undefined;
  let count = 0;
  vectors.forEach((v, vi) =>
    v.forEach((x, pi) => {
      if (Number.isFinite(x)) return;
      count++;
      first ??= { vector: vi, position: pi, value: x };
    }),
  );
  return first && { ...first, count };
}

/** Nearest-rank percentile of a sample (p in 0..100); NaN for an empty sample. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
