/**
 * Checks a JSON body's nesting depth and list lengths as its bytes arrive, before any parse: a deeply nested or
 * million-item body is refused after the chunk that crosses the bound, never handed to JSON.parse (which would
 * hold the event loop for the whole body). Counts structure only: strings (with escapes) are skipped, and the
 * parse that follows still validates everything else.
 */
type ShapeError = "too_deep" | "too_many_items";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

export class JsonShape {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private readonly isArray: Uint8Array;
  private readonly commas: Uint32Array;

  constructor(
    private readonly maxDepth: number,
    private readonly maxItems: number,
  ) {
    this.isArray = new Uint8Array(maxDepth + 2);
    this.commas = new Uint32Array(maxDepth + 2);
  }

  /** Feeds the next chunk; the first bound crossed, or undefined. */
  feed(chunk: Buffer): ShapeError | undefined {
    let { depth, inString, escaped } = this;
    const n = chunk.length;
    // Inside strings (most of a body's bytes) the next quote and backslash are found by Buffer.indexOf (native),
    // not byte by byte: the scan was a measurable share of a small request's CPU. The next backslash is looked up
    // once and kept until passed, so a chunk without any is searched once.
    let backslash = -2; // index of the next backslash at or after i; -1: none left in this chunk; -2: not looked up
    let i = 0;
    while (i < n) {
      if (inString) {
        if (escaped) {
          escaped = false;
          i++;
          continue;
        }
        const quote = chunk.indexOf(QUOTE, i);
        if (backslash !== -1 && backslash < i) backslash = chunk.indexOf(BACKSLASH, i);
        if (backslash !== -1 && (quote === -1 || backslash < quote)) {
          // An escape: the byte after the backslash is skipped (in the next chunk when this one ends here).
          if (backslash + 1 < n) i = backslash + 2;
          else {
            escaped = true;
            i = n;
          }
          continue;
        }
        if (quote === -1) break; // the string goes on in the next chunk
        inString = false;
        i = quote + 1;
        continue;
      }
      const c = chunk[i++]!;
      if (c === QUOTE) inString = true;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++depth > this.maxDepth) return "too_deep";
        this.isArray[depth] = c === OPEN_ARRAY ? 1 : 0;
        this.commas[depth] = 0;
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        if (depth > 0) depth--;
      } else if (c === COMMA && depth > 0 && this.isArray[depth] === 1 && ++this.commas[depth]! >= this.maxItems)
        return "too_many_items";
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return undefined;
  }
}
