import type { EndpointSet } from "./endpoints";
import { GatewayError } from "./errors";

/**
 * Requests for a model with no ready pod (scaled to zero, or every pod starting) wait here instead of failing,
 * up to `size` at once and `maxWaitMs` each (default: the model's startup budget, capped), and go on as soon as
 * discovery lists a ready pod. The number waiting is exported per model; the model's KEDA ScaledObject reads it
 * (components/gateway/demand.ts), so a waiting request is what wakes the model. Past the wait, or with a full
 * queue, the caller gets 503 with Retry-After at once; a caller that sends `Prefer: wait=0` (RFC 7240) is
 * answered at once too, and `Prefer: wait=N` waits at most N seconds.
 */
export class WakeQueue {
  private waiting = 0;

  constructor(
    private readonly model: string,
    private readonly size: number,
    private readonly maxWaitMs: number,
    private readonly onWaiting: (count: number) => void,
  ) {}

  get count(): number {
    return this.waiting;
  }

  /** Resolves when the model has a ready pod; throws 503 (Retry-After) when it has none within the wait. */
  async ready(endpoints: EndpointSet, preferWaitMs?: number): Promise<void> {
    if (endpoints.ready > 0) return;
    const wait = Math.min(this.maxWaitMs, preferWaitMs ?? Infinity);
    const retryAfter = String(Math.max(1, Math.min(30, Math.ceil(this.maxWaitMs / 1000))));
    if (wait <= 0)
      throw this.unavailable("has no ready replica and the caller asked not to wait", "model_waking", retryAfter);
    if (this.waiting >= this.size)
      throw this.unavailable(
        `has no ready replica and ${this.size} requests already wait for it`,
        "wake_queue_full",
        retryAfter,
      );
    this.waiting++;
    this.onWaiting(this.waiting);
    try {
      if (!(await endpoints.whenReady(wait)))
        throw this.unavailable(
          `has no ready replica after ${Math.round(wait / 1000)} s (it is starting; try again)`,
          "model_waking",
          retryAfter,
        );
    } finally {
      this.waiting--;
      this.onWaiting(this.waiting);
    }
  }

  private unavailable(what: string, code: string, retryAfter: string): GatewayError {
    return new GatewayError(503, "upstream_error", code, `${this.model} ${what}.`, null, {
      "retry-after": retryAfter,
    });
  }
}

/** `Prefer: wait=N` (seconds) as milliseconds; undefined when absent or unreadable. */
export function preferWaitMs(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header.join(",") : header;
  const m = v ? /(?:^|[,;\s])wait\s*=\s*(\d+)/i.exec(v) : null;
  return m ? Number(m[1]) * 1000 : undefined;
}
