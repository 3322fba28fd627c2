import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Deadline } from "./http";
import { percentile } from "./vectors";

export interface LoadResult {
  readonly requests: number;
  readonly concurrency: number;
  /** Latencies of successful requests, ms, sorted ascending. */
  readonly latencies: readonly number[];
  /** Failed requests by message. */
  readonly errors: ReadonlyMap<string, number>;
  /** Requests never sent because the deadline passed. */
  readonly notSent: number;
  readonly wallMs: number;
}

export interface LoadSummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly ok: number;
  readonly failed: number;
  readonly perSecond: number;
}

/**
 * A closed-loop load: `concurrency` workers each send the next request as soon as the previous one returns,
 * until `requests` have been sent. Bounded by the count and by the deadline (no request starts after it).
 * Latency is measured around `call` only, with the monotonic clock.
 */
export async function runLoad(
  call: () => Promise<unknown>,
  requests: number,
  concurrency: number,
  deadline: Deadline,
  describe: (e: unknown) => string,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  let notSent = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < requests) {
      next++;
      if (deadline.expired) {
        notSent++;
        continue;
      }
      const t0 = performance.now();
      try {
        await call();
        latencies.push(performance.now() - t0);
      } catch (error) {
        const key = describe(error);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, worker));
  return {
    requests,
    concurrency,
    latencies: latencies.sort((a, b) => a - b),
    errors,
    notSent,
    wallMs: performance.now() - started,
  };
}

export function summarise(load: LoadResult): LoadSummary {
  const failed = [...load.errors.values()].reduce((a, b) => a + b, 0) + load.notSent;
  return {
    p50: percentile(load.latencies, 50),
    p95: percentile(load.latencies, 95),
    p99: percentile(load.latencies, 99),
    ok: load.latencies.length,
    failed,
    perSecond: (load.latencies.length * 1000) / Math.max(1, load.wallMs),
  };
}

/**
 * A server on 127.0.0.1 that answers every request at once with a fixed body: running the same load against it
 * measures what the load generator itself (client, JSON, parser, event loop) costs at this concurrency.
 */
export async function withInstantServer<T>(body: string, use: (baseUrl: string) => Promise<T>): Promise<T> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () =>
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body),
    );
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  try {
    return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
