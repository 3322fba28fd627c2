/** "Did you mean" for a misspelt key, engine name or catalogue id: the closest known word, if close enough. */

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
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
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (!best || d < best.d) best = { k, d };
  }
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  return best && best.d <= limit ? best.k : undefined;
}

/** ` Did you mean "x"?` or "" when nothing is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const c = closest(word, known);
  return c === undefined || c === word ? "" : `did you mean "${c}"? `;
}
