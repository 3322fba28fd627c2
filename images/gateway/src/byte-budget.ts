/**
 * Bytes of request bodies and engine answers this instance holds at once (maxBytesInFlight). A request that would
 * go over is refused with 503 before it is buffered, so memory stays within the pod's limit whatever the mix of
 * clients (the limit is sized from this budget: components/gateway/gateway.ts).
 */
export class ByteBudget {
  private used = 0;
  constructor(readonly max: number) {}

  /** Takes `n` bytes if they fit. */
  take(n: number): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  get inUse(): number {
    return this.used;
  }
}
