/** "Did you mean" for a misspelt key, engine name or catalogue id: the closest known word, if close enough. */

/**
 * Edit distance: insertions, deletions and substitutions (Levenshtein); with `adjacentSwaps`, swapping two
 * neighbouring characters counts as one edit too (optimal string alignment), as a typed flag often has it.
 */
export function editDistance(a: string, b: string, options: { readonly adjacentSwaps?: boolean } = {}): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (options.adjacentSwaps && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/**
 * The known word closest to `word`: the same word in other case wins (a catalogue id with one letter in the
 * wrong case), else the nearest within a third of its length (at most 3 edits).
 */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const candidates = [...known];
  const sameCase = candidates.find((k) => k.toLowerCase() === word.toLowerCase());
  if (sameCase !== undefined) return sameCase;
  let best: { k: string; d: number } | undefined;
  for (const k of candidates) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (!best || d < best.d) best = { k, d };
  }
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  return best && best.d <= limit ? best.k : undefined;
}
