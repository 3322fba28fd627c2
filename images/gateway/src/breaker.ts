/**
 * A circuit breaker per model: `failures` consecutive failed requests open it (calls are refused at once with
 * 503 instead of piling onto a dead engine); after `cooldownMs` it half-opens and lets ONE trial request
 * through: success closes it, failure opens it again for another cool-down.
 */
type BreakerState = "closed" | "half-open" | "open";

export const BREAKER_GAUGE: Readonly<Record<BreakerState, number>> = { closed: 0, "half-open": 1, open: 2 };

export class Breaker {
  private failures = 0;
  private openedAt = 0;
  private state: BreakerState = "closed";
  private trialInFlight = false;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly onChange: (state: BreakerState) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a request may go to the engine now; reserves the half-open trial. */
  allow(): boolean {
    if (this.state === "open" && this.now() - this.openedAt >= this.cooldownMs) this.set("half-open");
    if (this.state === "closed") return true;
    if (this.state === "half-open" && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  /** Seconds until the next trial (Retry-After of the 503). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.cooldownMs - (this.now() - this.openedAt)) / 1000));
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    if (this.state !== "closed") this.set("closed");
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.state === "half-open" || this.failures >= this.threshold) {
      this.openedAt = this.now();
      if (this.state !== "open") this.set("open");
    }
  }

  /** A request that ended without an engine verdict (the caller went away): frees the trial slot. */
  release(): void {
    this.trialInFlight = false;
  }

  get current(): BreakerState {
    return this.state;
  }

  private set(state: BreakerState): void {
    this.state = state;
    this.onChange(state);
  }
}
