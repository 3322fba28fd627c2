/**
 * `npm run bench:verifier [-- --seconds S --rounds R --concurrency C]`: what the verifier's load generator costs
 * per request, against autocannon on the same instant local server (127.0.0.1 only, bounded: R rounds (default 3,
 * at most 9) of S seconds (default 3, at most 30) per generator and task). The server runs in its own process and answers every request at once with a fixed body: the
 * engine's embedding answer (one 1024-float vector, OpenAI shape) or the rerank example's answer (Cohere shape).
 * Rows: autocannon (the reference), the verifier's load path (EngineClient.loadCall, what latency.p99 runs:
 * undici pool, one timer, one read, the dialect's parser on every 8th answer), and for comparison `fetch` with two abort signals per request (the old transport).
 * Target (issue 15, item 13): verifier >= 0.5x autocannon's requests/s at concurrency 16. Not a test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { openaiDialect } from "../components/serving/dialects";
import { EngineClient } from "../images/verifier/src/client";
import { DEFAULT_RETRY, Deadline } from "../images/verifier/src/http";
import { runLoad, summarise } from "../images/verifier/src/load";
import { RERANK_EXAMPLE, SINGLE_TEXT } from "../images/verifier/src/request-texts";

const ROOT = path.resolve(__dirname, "..");
const AUTOCANNON = path.join(ROOT, "node_modules", "autocannon", "autocannon.js");

/** The instant server, as a separate Node process: prints its port, answers every request with the body file. */
const SERVER_JS = `
const http = require("node:http");
const body = require("node:fs").readFileSync(process.argv[1]);
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body));
});
server.keepAliveTimeout = 30000;
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
process.on("SIGTERM", () => process.exit(0));
`;

function startServer(bodyFile: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", SERVER_JS, bodyFile], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once("data", (d: Buffer) => resolve({ url: `http://127.0.0.1:${String(d).trim()}`, child }));
  });
}

function autocannon(url: string, bodyFile: string, seconds: number, concurrency: number): Promise<number> {
  const args = [AUTOCANNON, "-c", String(concurrency), "-d", String(seconds), "-m", "POST"];
  args.push("-H", "content-type=application/json", "-i", bodyFile, "--json", url);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}`));
      const r = JSON.parse(out) as { requests: { total: number }; duration: number; non2xx: number; errors: number };
      if (r.non2xx || r.errors) return reject(new Error(`autocannon saw ${r.non2xx} non-2xx, ${r.errors} errors`));
      resolve(r.requests.total / r.duration);
    });
  });
}

/** Requests/s of `call` for `seconds` at `concurrency` (closed loop, like the latency check). */
async function rate(call: () => Promise<unknown>, seconds: number, concurrency: number): Promise<number> {
  const deadline = new Deadline(seconds * 1000);
  try {
    // The count is a bound the deadline cuts: no request starts after it.
    const load = await runLoad(call, 10_000_000, concurrency, deadline, (e) => String(e));
    const s = summarise(load);
    if (load.errors.size) throw new Error(`load errors: ${[...load.errors.keys()].join("; ")}`);
    return (s.ok * 1000) / (seconds * 1000);
  } finally {
    deadline.dispose();
  }
}

/** The old transport's shape: fetch, AbortSignal.any of the deadline and a per-request timeout, a text read. */
function fetchCall(url: string, body: string, deadline: AbortSignal): () => Promise<unknown> {
  return async () => {
    const signal = AbortSignal.any([deadline, AbortSignal.timeout(30_000)]);
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal });
    return JSON.parse(await res.text());
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "3" },
      rounds: { type: "string", default: "3" },
      concurrency: { type: "string", default: "16" },
    },
  });
  const seconds = Math.min(30, Math.max(1, Number(values.seconds)));
  const concurrency = Math.max(1, Number(values.concurrency));
  const rounds = Math.min(9, Math.max(1, Number(values.rounds)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-verifier-"));
  const vector = Array.from({ length: 1024 }, (_, i) => Math.sin(i) / 32);
  const cases = [
    {
      task: "embed",
      path: "/v1/embeddings",
      answer: { object: "list", data: [{ index: 0, object: "embedding", embedding: vector }], model: "m", usage: {} },
      request: { model: "m", input: [SINGLE_TEXT], encoding_format: "float" },
      call: (c: EngineClient) => c.loadCall({ embed: SINGLE_TEXT }),
    },
    {
      task: "rerank",
      path: "/v1/rerank",
      answer: {
        id: "r",
        model: "m",
        results: RERANK_EXAMPLE.documents.map((_, i) => ({ index: i, relevance_score: 1 - i / 10 })),
        usage: {},
      },
      request: { model: "m", query: RERANK_EXAMPLE.query, documents: RERANK_EXAMPLE.documents },
      call: (c: EngineClient) => c.loadCall({ query: RERANK_EXAMPLE.query, documents: RERANK_EXAMPLE.documents }),
    },
  ];
  const rows: string[][] = [
    ["task", "answer", "autocannon", "verifier", "ratio (median of rounds)", "fetch + 2 signals (old)"],
  ];
  try {
    for (const c of cases) {
      const answerFile = path.join(dir, `${c.task}-answer.json`);
      const requestFile = path.join(dir, `${c.task}-request.json`);
      fs.writeFileSync(answerFile, JSON.stringify(c.answer));
      fs.writeFileSync(requestFile, JSON.stringify(c.request));
      const server = await startServer(answerFile);
      try {
        const url = `${server.url}${c.path}`;
        // Rounds alternate the three generators, and the median of each is reported: on a shared machine one run
        // alone says more about the neighbours than about the generator.
        const reference: number[] = [];
        const ours: number[] = [];
        const old: number[] = [];
        for (let r = 1; r <= rounds; r++) {
          process.stderr.write(`${c.task}: round ${r}/${rounds}: autocannon, verifier, fetch (${seconds} s each)\n`);
          reference.push(await autocannon(url, requestFile, seconds, concurrency));
          const deadline = new Deadline((seconds + 5) * 1000 * 3);
          const client = new EngineClient(server.url, openaiDialect, "m", {
            requestTimeoutMs: 30_000,
            retry: { ...DEFAULT_RETRY, maxRetries: 0 },
            deadline,
          });
          ours.push(await rate(c.call(client), seconds, concurrency));
          await client.close();
          old.push(await rate(fetchCall(url, JSON.stringify(c.request), deadline.signal), seconds, concurrency));
          deadline.dispose();
        }
        const [ref, our, fet] = [median(reference), median(ours), median(old)];
        // Each round's own ratio (the two ran back to back), then the median: neighbours' load cancels out.
        const ratio = median(ours.map((o, i) => o / reference[i]!));
        const kb = (fs.statSync(answerFile).size / 1024).toFixed(1);
        rows.push([c.task, `${kb} KB`, ref.toFixed(0), our.toFixed(0), `${ratio.toFixed(2)}x`, fet.toFixed(0)]);
      } finally {
        server.child.kill("SIGTERM");
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ");
  process.stdout.write(
    [
      `verifier load generator vs autocannon: requests/s, median of ${rounds} rounds of ${seconds} s, concurrency ${concurrency}, node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}`,
      line(rows[0]!),
      widths.map((w) => "-".repeat(w)).join("-|-"),
      ...rows.slice(1).map(line),
      "target: verifier >= 0.5x autocannon",
    ].join("\n") + "\n",
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:verifier failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
