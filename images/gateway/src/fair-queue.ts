import { GatewayError } from "./errors";

/**
 * Fair admission to one model's pods: at most `perPod` sequences (inputs or documents) in flight per ready pod,
 * what the engine batches well (its adapter's figure: vLLM --max-num-seqs, TEI's batch; more would only queue
 * inside the engine, where the gateway can neither order nor refuse them); the rest wait here in one queue per key,
 * served round-robin between keys, so one key flooding cannot starve another. A request larger than the whole
 * limit counts as the limit (it runs alone rather than never). A key whose queue holds its share of `capacity`
 * requests (capacity / keys waiting) gets 429 with Retry-After at once.
 */
export class FairQueue {
  private inFlight = 0;
  private readonly queues = new Map<string, { cost: number; go: (granted: number) => void }[]>();
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

  /** Sequences in flight now (for tests and metrics). */
  get sequencesInFlight(): number {
    return this.inFlight;
  }

  /** Waits for room for `sequences` (fairly between keys); returns the release function. */
  async acquire(key: string, sequences = 1): Promise<() => void> {
    const limit = this.limit;
    const cost = Math.max(1, Math.min(sequences, limit === Infinity ? sequences : limit));
    if (this.inFlight + cost <= limit && this.queued === 0) {
      this.inFlight += cost;
      return this.releaser(cost);
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
    const granted = await new Promise<number>((resolve) => {
      queue.push({ cost, go: resolve });
      this.queued++;
      this.onQueued(this.queued);
      // Room may be free already (a queue ahead that just emptied): hand it out at once.
      this.drain();
    });
    return this.releaser(granted);
  }

  private releaser(cost: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight -= cost;
      this.drain();
    };
  }

  /**
   * Hands free room to waiting requests, one key after another; stops at the first key whose next request does
   * not fit (it goes first once room frees, so a large request is never passed over for ever).
   */
  drain(): void {
    const limit = this.limit;
    while (this.queued > 0) {
      const key = this.order[this.next % this.order.length]!;
      const q = this.queues.get(key)!;
      const head = q[0]!;
      // The limit may have shrunk (a pod left) below a request admitted at the old one: it still runs alone.
      const cost = Math.min(head.cost, limit);
      if (this.inFlight + cost > limit && this.inFlight > 0) break;
      q.shift();
      this.queued--;
      this.inFlight += cost;
      if (q.length === 0) {
        this.queues.delete(key);
        this.order.splice(this.next % this.order.length, 1);
      } else this.next++;
      if (this.order.length) this.next %= this.order.length;
      else this.next = 0;
      this.onQueued(this.queued);
      head.go(cost);
    }
  }
}
