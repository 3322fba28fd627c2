import { GatewayError } from "./errors";

/**
 * Fair admission to one model's pods: at most `perPod` requests in flight per ready pod (what the engine batches
 * well: more only queue inside the engine, where the gateway can neither order nor refuse them), the rest wait
 * here in one queue per key, served round-robin between keys, so one key flooding cannot starve another. A key
 * whose queue holds its share of `capacity` (capacity / keys waiting) gets 429 with Retry-After at once.
 */
export class FairQueue {
  private inFlight = 0;
  private readonly queues = new Map<string, (() => void)[]>();
  private order: string[] = [];
  private next = 0;
  private queued = 0;

  constructor(
    private readonly model: string,
    private readonly perPod: number,
    private readonly pods: () => number,
    private readonly capacity: number,
    private readonly onQueued: (count: number) => void = () => {},
  ) {}

  private get limit(): number {
    return this.perPod * Math.max(1, this.pods());
  }

  /** Waits for a slot (fairly); returns the release function. */
  async acquire(key: string): Promise<() => void> {
    if (this.inFlight < this.limit && this.queued === 0) {
      this.inFlight++;
      return this.releaser();
    }
    let q = this.queues.get(key);
    const keys = this.queues.size + (q ? 0 : 1);
    const share = Math.max(1, Math.floor(this.capacity / keys));
    if ((q?.length ?? 0) >= share)
      throw new GatewayError(
        429,
        "rate_limit_error",
        "queue_share_exceeded",
        `${this.model} is busy and key ${key} already has ${share} requests waiting (its share of the queue). Retry shortly.`,
        null,
        { "retry-after": "1" },
      );
    if (!q) {
      q = [];
      this.queues.set(key, q);
      this.order.push(key);
    }
    const queue = q;
    await new Promise<void>((resolve) => {
      queue.push(resolve);
      this.queued++;
      this.onQueued(this.queued);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.drain();
    };
  }

  /** Hands free slots to waiting requests, one key after another. */
  drain(): void {
    while (this.queued > 0 && this.inFlight < this.limit) {
      const key = this.order[this.next % this.order.length]!;
      const q = this.queues.get(key)!;
      const resolve = q.shift()!;
      this.queued--;
      this.inFlight++;
      if (q.length === 0) {
        this.queues.delete(key);
        this.order.splice(this.next % this.order.length, 1);
      } else this.next++;
      if (this.order.length) this.next %= this.order.length;
      else this.next = 0;
      this.onQueued(this.queued);
      resolve();
    }
  }
}
