/**
 * Bounded label values: configured names pass, anything else collapses, so a caller cannot grow the metrics
 * without bound (unknown model names become "unknown"; JWT identities beyond the first `max` become "other").
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(
    private readonly known: ReadonlySet<string>,
    private readonly max: number,
    private readonly overflow: string,
  ) {}
  of(value: string): string {
    if (this.known.has(value) || this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return this.overflow;
    this.seen.add(value);
    return value;
  }
}
