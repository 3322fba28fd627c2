// `npm run measure:attacks [-- --only a,b,... --seconds N]`: re-runs the attacks of issue 21 against the real
// gateway process (started as `npm run gateway` does) in front of fake engines, and prints the issue's "before"
// figure next to today's (docs/gateway.md, "Attacks, measured"). Everything listens on 127.0.0.1 (clients on other
// loopback addresses), is bounded in count and time (well under 3 minutes) and is stopped at the end, also on
// failure or Ctrl-C. Gateway CPU and memory come from /proc; the event-loop delay from its own metric
// (retrieval_gateway_event_loop_delay_max_seconds, perf_hooks.monitorEventLoopDelay, reset on each read).
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import Redis from "ioredis";
import { gatewayMemoryLimitMiB } from "../components/gateway/plan";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import { startFakeServer, type FakeServer, type FakeServerOptions } from "../test/fixtures/engine-server";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "../test/fixtures/gateway-process";
import { startHostileServer, type HostileServer } from "../test/fixtures/hostile-server";
import { startRedis, type RedisServer } from "../test/fixtures/redis-server";
import { gatewayStack, teiEmbed } from "../test/gateway-stack";

export const ATTACKS = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"] as const;
export type Attack = (typeof ATTACKS)[number];
export const USAGE =
  "usage: npm run measure:attacks -- [--only a,b,...,k] [--seconds N (the memory attack d, 5..30, default 20)]";

export interface Options {
  readonly only: readonly Attack[];
  readonly seconds: number;
}

/** The command line, or an error message naming what is wrong (the caller prints usage and exits 2). */
export function parseOptions(argv: readonly string[]): Options | { error: string } | "help" {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      options: {
        only: { type: "string" },
        seconds: { type: "string", default: "20" },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  if (v.help) return "help";
  const seconds = Number(v.seconds);
  if (!Number.isFinite(seconds) || seconds < 5 || seconds > 30)
    return { error: `--seconds must be a number from 5 to 30, got ${JSON.stringify(v.seconds)}` };
  const only = v.only === undefined ? [...ATTACKS] : v.only.split(",").map((s) => s.trim());
  const unknown = only.filter((s) => !(ATTACKS as readonly string[]).includes(s));
  if (unknown.length || only.length === 0)
    return { error: `--only takes letters among ${ATTACKS.join(",")}, got ${JSON.stringify(v.only)}` };
  return { only: only as Attack[], seconds };
}

// ---------------------------------------------------------------------------------------------------------------
// The gateway process, seen from /proc (tsx runs the gateway in a child node process: the deepest descendant).

function descendants(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of fs.readdirSync(`/proc/${pid}/task`))
      for (const c of fs.readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean))
        out.push(Number(c), ...descendants(Number(c)));
  } catch {
    /* gone */
  }
  return out;
}
function gatewayPid(g: GatewayProcess): number {
  const all = [g.child.pid!, ...descendants(g.child.pid!)];
  return all[all.length - 1]!;
}
const MiB = 1024 * 1024;
function rssMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? NaN) / 1024;
}
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, USER_HZ
}
/**
 * Peak RSS over `work`: the kernel's high-water mark reset first (clear_refs 5), plus samples every 20 ms in
 * case the reset is not allowed here.
 */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; before: number; peak: number }> {
  let hwmReset = true;
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    hwmReset = false;
  }
  const before = rssMiB(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  try {
    const result = await work();
    peak = Math.max(peak, rssMiB(pid));
    if (hwmReset) peak = Math.max(peak, rssMiB(pid, "VmHWM"));
    return { result, before, peak };
  } finally {
    clearInterval(timer);
  }
}
async function loopDelayMs(g: GatewayProcess): Promise<number> {
  const text = await (await fetch(`${g.metricsUrl}/metrics`)).text();
  return Number(/^retrieval_gateway_event_loop_delay_max_seconds (\S+)$/m.exec(text)?.[1] ?? NaN) * 1000;
}

// ---------------------------------------------------------------------------------------------------------------
// Clients.

interface Answer {
  readonly status: number;
  readonly bytes: number;
  readonly text: string;
  readonly ms: number;
}
/** One request over its own connection from a chosen loopback address; status 0 on a network error or timeout. */
function request(
  url: string,
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: string | Buffer; from?: string; timeoutMs?: number },
): Promise<Answer> {
  const started = performance.now();
  const u = new URL(url);
  return new Promise((resolve) => {
    let answered = false;
    const done = (status: number, text: string, bytes: number) =>
      resolve({ status, text, bytes, ms: performance.now() - started });
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: o.method ?? "GET",
        headers: o.headers,
        localAddress: o.from ?? "127.0.0.2",
        agent: false,
      },
      (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => {
          const b = Buffer.concat(parts);
          done(res.statusCode ?? 0, b.length < 64 * 1024 ? b.toString("utf8") : "", b.length);
        });
        res.on("error", () => done(res.statusCode ?? 0, "", 0));
      },
    );
    req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error("timeout")));
    // A refusal from the headers closes the connection while a large body is still being sent: the write then
    // fails after the answer arrived, which is the behaviour measured, not an error.
    req.on("error", () => {
      if (!answered) done(0, "", 0);
    });
    req.end(o.body);
  });
}

/**
 * The gateway's pod runs with V8's old space capped at 3/4 of its memory limit (components/gateway/plan.ts): the
 * gateways here get the same NODE_OPTIONS, so that their memory is the pod's, collector included.
 */
const POD_MEMORY_MIB = gatewayMemoryLimitMiB(RuntimeConfigSchema.shape.maxBytesInFlight.parse(undefined));
const POD_NODE_OPTIONS = `--max-old-space-size=${Math.floor((POD_MEMORY_MIB * 3) / 4)}`;

const KEY = "measure-key-0123456789abcdef";
const TOKENS_KEYS = ["measure-tokens-1-0123456789", "measure-tokens-2-0123456789"];
const DOCS_KEY = "measure-docs-0123456789abcdef";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const json = { "content-type": "application/json" };
const bearer = (k: string) => ({ ...json, authorization: `Bearer ${k}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const day = () => Math.floor(Date.now() / 86_400_000);
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const statuses = (list: readonly Answer[]) => {
  const c = new Map<number, number>();
  for (const a of list) c.set(a.status, (c.get(a.status) ?? 0) + 1);
  return [...c].map(([s, n]) => `${n}x ${s || "network error"}`).join(", ");
};

/** `depth` nested arrays without a key, padded to about `bytes` (the issue's attack body). */
const nested = (depth: number, bytes: number) =>
  Buffer.from(
    `{"model":"emb-tei","input":${"[".repeat(depth)}${" ".repeat(Math.max(0, bytes - 2 * depth - 40))}${"]".repeat(depth)}}`,
  );

/**
 * An engine whose state the measurement switches: `down` answers 503, otherwise a request naming BAD-INPUT is
 * refused with TEI's 422 validation error (the caller's own mistake) and the rest goes to a healthy fake.
 */
async function startSwitchableEngine(
  healthy: FakeServer,
): Promise<{ url: string; setDown(d: boolean): void; close(): Promise<void> }> {
  let down = true;
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      if (down) return void res.writeHead(503, json).end('{"error":"no replica","error_type":"Overloaded"}');
      if (body.includes("BAD-INPUT"))
        return void res.writeHead(422, json).end('{"error":"input is not valid","error_type":"Validation"}');
      fetch(`${healthy.url}${req.url}`, {
        method: req.method,
        headers: json,
        body: body.length ? body : undefined,
      }).then(
        async (r) => {
          const headers: Record<string, string> = {};
          r.headers.forEach((v, k) => (headers[k] = v));
          delete headers["content-length"];
          delete headers["transfer-encoding"];
          res.writeHead(r.status, headers).end(Buffer.from(await r.arrayBuffer()));
        },
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    setDown: (d) => void (down = d),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A vLLM-shaped rerank engine that costs next to nothing: it drops the request and answers the same ranking of
 * `documents` documents (the memory attack measures the gateway, not a fake model's scoring in this process).
 */
async function startInstantReranker(
  model: string,
  documents: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const answer = Buffer.from(
    JSON.stringify({
      id: "rerank-measure",
      model,
      usage: { total_tokens: documents * 1000 },
      results: Array.from({ length: documents }, (_, i) => ({
        index: i,
        document: { text: "" },
        relevance_score: 1 - i / (2 * documents),
      })),
    }),
  );
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => void res.writeHead(200, json).end(answer));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// ---------------------------------------------------------------------------------------------------------------

interface Row {
  readonly id: Attack;
  readonly attack: string;
  readonly before: string;
  readonly after: string;
}

const gpu = { replicas: { min: 1, max: 1 }, gpu: { nodeGroup: "l4" }, slo: { p99LatencyMs: 1000 } };
const vllm = (name: string, task: "embed" | "rerank") => ({
  name,
  model: task === "embed" ? "Qwen/Qwen3-Embedding-0.6B" : "BAAI/bge-reranker-base",
  engine: "vllm",
  task,
  ...gpu,
});

async function run(opts: Options, cleanup: (() => Promise<unknown>)[]): Promise<Row[]> {
  const want = (a: Attack) => opts.only.includes(a);
  const rows: Row[] = [];
  const fakes: Record<string, FakeServer> = {};
  const fake = async (name: string, o: FakeServerOptions) => {
    const f = await startFakeServer(o);
    cleanup.push(() => f.close());
    return (fakes[name] = f);
  };
  const wantsMain = ["a", "b", "c", "d", "e"].some((a) => want(a as Attack));
  const wantsFaults = ["f", "g", "h", "i", "j", "k"].some((a) => want(a as Attack));

  // Engines: healthy TEI and vLLM fakes, fakes that answer wrong on purpose, a 300 MB answer, a trickle.
  await fake("emb-tei", { dialect: "tei", servedModel: "emb-tei", dims: 512 });
  const reranker = await startInstantReranker("rr-vllm", 100);
  cleanup.push(() => reranker.close());
  let huge: HostileServer | undefined;
  let drip: HostileServer | undefined;
  let flip: Awaited<ReturnType<typeof startSwitchableEngine>> | undefined;
  let redis: RedisServer | undefined;
  let rc: Redis | undefined;
  const dir = tempDir();
  cleanup.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const keyLimits = { requestsPerSecond: 100000, burst: 100000 };
  const started: Promise<GatewayProcess>[] = [];
  if (wantsMain) {
    // The main gateway: the stack's defaults (timeouts, body and in-flight bounds, connection caps).
    const stack = writeStack(fs.mkdtempSync(`${dir}/main-`), {
      ...gatewayStack({ keys: { measure: { sha256: [sha(KEY)], limits: keyLimits } } }),
    });
    started.push(
      startGateway([
        "--stack",
        stack,
        `--upstream=emb-tei=${fakes["emb-tei"]!.url}`,
        `--upstream=rr-vllm=${reranker.url}`,
      ]),
    );
  } else started.push(Promise.resolve(undefined as unknown as GatewayProcess));
  if (wantsFaults) {
    // The faults gateway: the issue's 2 s upstream timeout, one attempt, a breaker of 2 failures and 1 s, Redis.
    await fake("g-short", { dialect: "tei", servedModel: "g-short", fault: "short-dims", dims: 512 });
    await fake("g-inf", { dialect: "tei", servedModel: "g-inf", fault: "inf", dims: 512 });
    await fake("g-dup", { dialect: "vllm", servedModel: "g-dup", fault: "dup-index", dims: 1024 });
    await fake("g-missing", { dialect: "vllm", servedModel: "g-missing", fault: "missing-score" });
    await fake("e-5xx", { dialect: "tei", servedModel: "e-5xx", fault: "5xx" });
    await fake("e-400", { dialect: "tei", servedModel: "e-400", fault: "400-internal" });
    const healthy = await fake("flip-healthy", { dialect: "tei", servedModel: "e-flip", dims: 512 });
    flip = await startSwitchableEngine(healthy);
    cleanup.push(() => flip!.close());
    huge = await startHostileServer("huge", { bytes: 300 * MiB });
    drip = await startHostileServer("drip");
    cleanup.push(
      () => huge!.close(),
      () => drip!.close(),
    );
    redis = await startRedis();
    cleanup.push(() => redis!.stop());
    rc = new Redis(redis.url);
    cleanup.push(async () => rc!.disconnect());
    const stack = writeStack(fs.mkdtempSync(`${dir}/faults-`), {
      ...gatewayStack(
        {
          keys: {
            measure: { sha256: [sha(KEY)], limits: keyLimits },
            "quota-tokens-1": { sha256: [sha(TOKENS_KEYS[0]!)], limits: { dailyInputTokens: 100, burst: 1000 } },
            "quota-tokens-2": { sha256: [sha(TOKENS_KEYS[1]!)], limits: { dailyInputTokens: 100, burst: 1000 } },
            "quota-docs": { sha256: [sha(DOCS_KEY)], limits: { dailyDocuments: 100, burst: 1000 } },
          },
          upstreamTimeoutSeconds: 2,
          attempts: 1,
          breaker: { failures: 2, cooldownSeconds: 1 },
        },
        [
          teiEmbed("g-short"),
          teiEmbed("g-inf"),
          vllm("g-dup", "embed"),
          vllm("g-missing", "rerank"),
          teiEmbed("e-5xx"),
          teiEmbed("e-400"),
          teiEmbed("e-flip"),
          teiEmbed("e-huge"),
          teiEmbed("e-drip"),
        ],
      ),
      gpuNodeGroups: { l4: { instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 32, diskSizeGiB: 200 } },
    });
    started.push(
      startGateway([
        "--stack",
        stack,
        "--redis",
        redis.url,
        ...["emb-tei", "g-short", "g-inf", "g-dup", "g-missing", "e-5xx", "e-400"].map(
          (n) => `--upstream=${n}=${fakes[n]!.url}`,
        ),
        `--upstream=e-flip=${flip.url}`,
        `--upstream=e-huge=${huge.url}`,
        `--upstream=e-drip=${drip.url}`,
      ]),
    );
  }
  const [main, faults] = await Promise.all(started);
  if (process.env.NODE_OPTIONS !== POD_NODE_OPTIONS) throw new Error("NODE_OPTIONS changed under the run");
  if (main) cleanup.push(() => main.stop());
  if (faults) cleanup.push(() => faults.stop());
  const log = (s: string) => process.stderr.write(`measure:attacks: ${s}\n`);

  if (main) {
    const pid = gatewayPid(main);
    const attackBody = nested(1_000_000, 30_000_000);
    // Warm the gateway's paths once (JIT, pools) so that the first attack does not pay for them.
    for (let i = 0; i < 20; i++)
      await request(main.url, "/v1/embeddings", {
        method: "POST",
        headers: bearer(KEY),
        body: JSON.stringify({ model: "emb-tei", input: "warm" }),
      });

    if (want("a")) {
      log("a: one 30 MB nested body without a key");
      await loopDelayMs(main); // resets the window
      let stop = false;
      let worstHealth = 0;
      let healthFailures = 0;
      const poll = (async () => {
        while (!stop) {
          const h = await request(main.url, "/healthz", { timeoutMs: 10_000 });
          worstHealth = Math.max(worstHealth, h.ms);
          if (h.status !== 200) healthFailures++;
          await sleep(20);
        }
      })();
      const attack = await request(main.url, "/v1/embeddings", {
        method: "POST",
        headers: json,
        body: attackBody,
        from: "127.0.0.4",
      });
      await sleep(200);
      stop = true;
      await poll;
      const delay = await loopDelayMs(main);
      rows.push({
        id: "a",
        attack: "one 30 MB deeply nested JSON body without a key",
        before: "/healthz frozen 3.7 s",
        after: `${attack.status} after ${fmt(attack.ms)} ms; /healthz worst ${fmt(worstHealth)} ms (${healthFailures} failed); worst event-loop delay ${fmt(delay)} ms`,
      });
    }

    if (want("b")) {
      log("b: eight such bodies at once");
      await loopDelayMs(main);
      const cpu0 = cpuSeconds(pid);
      const { result, before, peak } = await peakRss(pid, () =>
        Promise.all(
          Array.from({ length: 8 }, () =>
            request(main.url, "/v1/embeddings", { method: "POST", headers: json, body: attackBody, from: "127.0.0.4" }),
          ),
        ),
      );
      await sleep(500); // the lingering reads end
      const cpu = cpuSeconds(pid) - cpu0;
      rows.push({
        id: "b",
        attack: "eight such bodies at once, without a key",
        before: "~1 s CPU, RSS 177 -> 699 MiB",
        after: `${statuses(result)}; ${fmt(cpu, 2)} s CPU (incl. reading and dropping 240 MB); RSS ${fmt(before)} -> peak ${fmt(peak)} MiB; worst event-loop delay ${fmt(await loopDelayMs(main))} ms`,
      });
    }

    if (want("c")) {
      log("c: a 10 MiB model name");
      const linesBefore = main.stdout().split("\n").length;
      const body = JSON.stringify({ model: "m".repeat(10 * MiB), input: "x" });
      const withKey = await request(main.url, "/v1/embeddings", { method: "POST", headers: bearer(KEY), body });
      const without = await request(main.url, "/v1/embeddings", {
        method: "POST",
        headers: json,
        body,
        from: "127.0.0.5",
      });
      await sleep(500);
      const newLines = main
        .stdout()
        .split("\n")
        .slice(linesBefore - 1);
      const longest = Math.max(0, ...newLines.map((l) => Buffer.byteLength(l)));
      const errLines = main.stderr().split("\n");
      const longestErr = Math.max(0, ...errLines.map((l) => Buffer.byteLength(l)));
      rows.push({
        id: "c",
        attack: "a 10 MiB `model`, with and without a key",
        before: "10 MiB 404 and a 10 MiB audit line, with or without a key",
        after: `with key ${withKey.status}, ${withKey.bytes} B; without ${without.status}, ${without.bytes} B; longest audit line ${longest} B, longest log line ${longestErr} B`,
      });
    }

    if (want("d")) {
      log(`d: 12 clients sending ~420 KB reranks for ${opts.seconds} s`);
      // 100 documents of ~4.2 KB: ~420 KB a request.
      const doc = (i: number) => `document ${i}: ${"retrieval gateway memory bound ".repeat(135)}`;
      const body = JSON.stringify({
        model: "rr-vllm",
        query: "what bounds the memory?",
        documents: Array.from({ length: 100 }, (_, i) => doc(i)),
        top_n: 5,
      });
      await loopDelayMs(main);
      const cpu0 = cpuSeconds(pid);
      const until = performance.now() + opts.seconds * 1000;
      const { result, before, peak } = await peakRss(pid, () =>
        Promise.all(
          Array.from({ length: 12 }, async (_, c) => {
            const got: Answer[] = [];
            while (performance.now() < until)
              got.push(
                await request(main.url, "/v1/rerank", {
                  method: "POST",
                  headers: bearer(KEY),
                  body,
                  from: `127.0.0.${40 + c}`,
                }),
              );
            return got;
          }),
        ),
      );
      const all = result.flat();
      const cpu = cpuSeconds(pid) - cpu0;
      rows.push({
        id: "d",
        attack: `12 concurrent clients, ${fmt(Buffer.byteLength(body) / 1024)} KB reranks, for ${opts.seconds} s (issue: 2 min)`,
        before: "peak RSS ~500 MiB (pod limit 512 Mi)",
        // The limit today: components/gateway/plan.ts from the runtime default maxBytesInFlight.
        after: `peak RSS ${fmt(peak)} MiB (from ${fmt(before)}; pod limit ${POD_MEMORY_MIB} Mi, ${POD_NODE_OPTIONS}); ${all.length} requests: ${statuses(all)}; ${fmt((cpu * 1000) / Math.max(1, all.length), 1)} CPU ms each; worst event-loop delay ${fmt(await loopDelayMs(main))} ms`,
      });
    }

    if (want("e")) {
      log("e: 1,000 slowloris connections while real requests run");
      const u = new URL(main.url);
      const sockets: net.Socket[] = [];
      await loopDelayMs(main);
      const drip = setInterval(() => {
        for (const s of sockets) if (s.writable) s.write("a");
      }, 500);
      try {
        for (let i = 0; i < 1000; i++) {
          const s = net.connect({ host: u.hostname, port: Number(u.port), localAddress: `127.0.0.${20 + (i % 8)}` });
          s.on("error", () => {});
          s.write("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nX-Slow: ");
          sockets.push(s);
        }
        await sleep(2000);
        const real: Answer[] = [];
        for (let round = 0; round < 5; round++) {
          real.push(
            ...(await Promise.all(
              Array.from({ length: 10 }, () =>
                request(main.url, "/v1/embeddings", {
                  method: "POST",
                  headers: bearer(KEY),
                  body: JSON.stringify({ model: "emb-tei", input: "hello" }),
                  timeoutMs: 20_000,
                }),
              ),
            )),
          );
          await sleep(300);
        }
        const open = sockets.filter((s) => !s.destroyed && s.readyState === "open").length;
        const ok = real.filter((r) => r.status === 200).length;
        rows.push({
          id: "e",
          attack: "1,000 slowloris connections (8 addresses, a header byte every 500 ms) + 50 real calls",
          before: "legitimate requests fail",
          after: `${ok}/${real.length} real calls 200, worst ${fmt(Math.max(...real.map((r) => r.ms)))} ms; ${open} slow connections held; worst event-loop delay ${fmt(await loopDelayMs(main))} ms`,
        });
      } finally {
        clearInterval(drip);
        for (const s of sockets) s.destroy();
      }
    }
  }

  if (faults) {
    const pid = gatewayPid(faults);
    const call = (model: string, extra: Record<string, unknown> = {}, key = KEY) =>
      request(faults.url, model.startsWith("g-missing") ? "/v1/rerank" : "/v1/embeddings", {
        method: "POST",
        headers: bearer(key),
        body: JSON.stringify(
          model.startsWith("g-missing")
            ? { model, query: "q", documents: ["alpha", "beta", "gamma"], ...extra }
            : { model, input: ["one", "two", "three"], ...extra },
        ),
      });
    const code = (a: Answer) => {
      try {
        return String((JSON.parse(a.text) as { error?: { code?: string } }).error?.code ?? "");
      } catch {
        return "";
      }
    };

    if (want("f")) {
      log("f: the breaker, a caller's 400 in half-open, then 15 healthy calls");
      const opening = [await call("e-flip"), await call("e-flip")]; // engine down: 2 failures open the breaker
      const refused = await call("e-flip");
      flip!.setDown(false); // the engine recovers
      await sleep(1100); // the 1 s cool-down: half-open, one trial
      const callerMistake = await request(faults.url, "/v1/embeddings", {
        method: "POST",
        headers: bearer(KEY),
        body: JSON.stringify({ model: "e-flip", input: ["BAD-INPUT"] }),
      });
      const healthy: Answer[] = [];
      for (let i = 0; i < 15; i++) {
        healthy.push(await call("e-flip"));
        await sleep(100);
      }
      const got503 = healthy.filter((h) => h.status === 503).length;
      rows.push({
        id: "f",
        attack: "breaker: opened (engine down), caller's 400 in half-open, then 15 healthy calls (100 ms apart)",
        before: "15 of 15 got 503 circuit_open (until restart)",
        after: `opening ${opening.map((o) => o.status).join(",")}, then ${refused.status} ${code(refused)}; caller's call ${callerMistake.status} ${code(callerMistake)}; ${got503} of 15 got 503 (${statuses(healthy)})`,
      });
    }

    if (want("g")) {
      log("g: wrong engine answers");
      const cases: [string, string][] = [
        ["g-short", "7-dim vectors for a 512-dim model"],
        ["g-inf", "1e999 in a vector"],
        ["g-dup", "duplicate indices"],
        ["g-missing", "rerank without the last score"],
      ];
      const got: string[] = [];
      for (const [model, what] of cases) {
        const r = await call(model);
        got.push(`${what}: ${r.status} ${code(r)}`);
      }
      rows.push({
        id: "g",
        attack: "wrong engine answers",
        before: "200 for each",
        after: got.join("; "),
      });
    }

    if (want("h")) {
      log("h: a 300 MB answer");
      const started = performance.now();
      const { result, before, peak } = await peakRss(pid, () => call("e-huge"));
      rows.push({
        id: "h",
        attack: "an engine answering 300 MB",
        before: "gateway RSS 140 -> 1,040 MiB",
        after: `${result.status} ${code(result)} after ${fmt(performance.now() - started)} ms; engine wrote ${fmt(huge!.written() / MiB)} MiB before the cut; RSS ${fmt(before)} -> peak ${fmt(peak)} MiB`,
      });
    }

    if (want("i")) {
      log("i: an engine trickling bytes");
      const r = await call("e-drip");
      rows.push({
        id: "i",
        attack: "an engine trickling a byte every 50 ms (upstream timeout 2 s)",
        before: "no answer; the client gave up after 20 s",
        after: `${r.status} ${code(r)} after ${fmt(r.ms)} ms`,
      });
    }

    if (want("j")) {
      log("j: 50 concurrent calls against a 100-token quota (real redis-server), two runs");
      const runs: string[] = [];
      for (const [i, key] of TOKENS_KEYS.entries()) {
        const got = await Promise.all(
          Array.from({ length: 50 }, () =>
            request(faults.url, "/v1/embeddings", {
              method: "POST",
              headers: bearer(key),
              body: JSON.stringify({ model: "emb-tei", input: "hello" }),
            }),
          ),
        );
        await sleep(300);
        const spent = Number((await rc!.get(`retrieval-gateway:{quota-tokens-${i + 1}}:tokens:${day()}`)) ?? 0);
        runs.push(`${spent} tokens (${got.filter((g) => g.status === 200).length} served, ${statuses(got)})`);
      }
      rows.push({
        id: "j",
        attack: "50 concurrent embedding calls against a 100-token daily quota, 2 gateway runs, real Redis",
        before: "252 and 651 tokens spent",
        after: runs.join("; "),
      });
    }

    if (want("k")) {
      log("k: requests that are not served");
      const codes: string[] = [];
      const sequence: [string, Record<string, unknown>][] = [
        ...Array.from({ length: 6 }, () => ["e-5xx", {}] as [string, Record<string, unknown>]), // 2 x 503, then open
        ...Array.from({ length: 4 }, () => ["e-400", {}] as [string, Record<string, unknown>]),
        ...Array.from({ length: 4 }, () => ["emb-tei", { dimensions: 3 }] as [string, Record<string, unknown>]),
      ];
      for (const [model, extra] of sequence) {
        const r = await request(faults.url, "/v1/embeddings", {
          method: "POST",
          headers: bearer(DOCS_KEY),
          body: JSON.stringify({ model, input: ["a", "b", "c", "d", "e"], ...extra }),
        });
        codes.push(`${r.status} ${code(r)}`);
      }
      await sleep(300);
      const charged = Number((await rc!.get(`retrieval-gateway:{quota-docs}:documents:${day()}`)) ?? 0);
      const tally = new Map<string, number>();
      for (const c of codes) tally.set(c, (tally.get(c) ?? 0) + 1);
      rows.push({
        id: "k",
        attack: "14 requests of 5 inputs not served (engine 5xx, open breaker, engine 400, gateway 400)",
        before: "70 of 100 documents charged, none served",
        after: `${charged} of 100 charged (${[...tally].map(([c, n]) => `${n}x ${c}`).join(", ")})`,
      });
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if ("error" in parsed) {
    process.stderr.write(`measure:attacks: ${parsed.error}\n${USAGE}\n`);
    process.exit(2);
  }
  const cleanup: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    await Promise.allSettled(cleanup.reverse().map((c) => Promise.race([c(), sleep(10_000)])));
  };
  // A hard bound on the whole run: stop everything and fail rather than run on.
  const watchdog = setTimeout(() => {
    process.stderr.write("measure:attacks: over 170 s, stopping\n");
    void stopAll().finally(() => process.exit(1));
  }, 170_000);
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => void stopAll().finally(() => process.exit(130)));
  process.env.NODE_OPTIONS = POD_NODE_OPTIONS; // inherited by the gateway processes only (read at start)
  const load0 = os.loadavg();
  const t0 = performance.now();
  let rows: Row[];
  try {
    rows = await run(parsed, cleanup);
  } catch (e) {
    await stopAll();
    throw e;
  }
  await stopAll();
  clearTimeout(watchdog);
  const load1 = os.loadavg();
  const lines = [
    `attacks of issue 21, measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC in ${fmt((performance.now() - t0) / 1000)} s; load average ${fmt(load0[0]!, 2)} at the start, ${fmt(load1[0]!, 2)} at the end, on ${os.cpus().length} cores`,
    "",
    "| | attack | issue 21 (before) | today |",
    "| --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.id} | ${r.attack} | ${r.before} | ${r.after} |`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (require.main === module)
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`measure:attacks failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
