// What `npm run bench:gateway` and `npm run bench:gateway-ab` share, so that the two measure the same thing: the
// 1.6 KB rerank request, the instant upstream's answer, the one-model stack the gateway is started from, and how a
// process's CPU time is read.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as YAML from "yaml";

export const BENCH_KEY = "bench-key-0123456789abcdef";
export const BENCH_MODEL = "bench-reranker";

/** A rerank request of about 1.6 KB: a query and 12 passages. */
export function rerankBody(): string {
  const docs = Array.from(
    { length: 12 },
    (_, i) =>
      `Passage ${i}: asyncio with aiohttp sends many HTTP requests concurrently from one Python thread; requests is synchronous.`,
  );
  return JSON.stringify({
    model: BENCH_MODEL,
    query: "How do I make many concurrent HTTP requests in Python?",
    documents: docs,
    top_n: 3,
  });
}

/** What the instant upstream answers: vLLM's rerank shape for 12 documents. */
export function upstreamAnswer(): string {
  const results = Array.from({ length: 12 }, (_, i) => ({
    index: i,
    document: { text: "" },
    relevance_score: 1 - i / 20,
  }));
  return JSON.stringify({ id: "rerank-bench", model: BENCH_MODEL, usage: { total_tokens: 400 }, results });
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject).listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** CPU seconds (user + system) of a process and its descendants (tsx runs the gateway in a child). */
export function cpuSeconds(pid: number): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  const visit = (p: number) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / tick;
      for (const t of fs.readdirSync(`/proc/${p}/task`))
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean))
          visit(Number(c));
    } catch {
      /* gone */
    }
  };
  visit(pid);
  return total;
}

/** The stack file the gateway is started from (`npm run gateway -- --config-file`): one reranker, the bench key. */
export function writeBenchStack(dir: string): string {
  const stack = path.join(dir, "Pulumi.bench.yaml");
  fs.writeFileSync(
    stack,
    YAML.stringify({
      config: {
        "retrieval-stack:environment": "local",
        "retrieval-stack:cluster": { mode: "existing", name: "local", context: "bench" },
        "retrieval-stack:models": [
          {
            name: BENCH_MODEL,
            model: "BAAI/bge-reranker-base",
            engine: "vllm",
            task: "rerank",
            replicas: { min: 1, max: 1 },
            gpu: { nodeGroup: "l4" },
            slo: { p99LatencyMs: 1000 },
          },
        ],
        "retrieval-stack:gpuNodeGroups": {
          l4: { instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 2, diskSizeGiB: 200 },
        },
        "retrieval-stack:ingress": { tls: { mode: "none" } },
        "retrieval-stack:verification": { mode: "off" },
        "retrieval-stack:gateway": {
          keys: { bench: { sha256: [createHash("sha256").update(BENCH_KEY).digest("hex")] } },
          limits: { requestsPerSecond: 100000, burst: 100000 },
        },
      },
    }),
  );
  return stack;
}

/**
 * Runs a benchmark's main(): whatever it started is stopped (`stop`) on success, on failure and on Ctrl-C, and the
 * exit code says which (0, 1 with the reason on stderr, 130).
 */
export function runBenchmark(name: string, main: () => Promise<void>, stop: () => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => {
      stop();
      process.exit(130);
    });
  main().then(
    () => {
      stop();
      process.exit(0);
    },
    (e: unknown) => {
      stop();
      process.stderr.write(`${name} failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
