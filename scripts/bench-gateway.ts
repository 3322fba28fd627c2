// `npm run bench:gateway [-- --seconds N --rate R]`: the gateway's overhead, measured (docs/gateway.md, "Benchmark").
// 1. An instant upstream: nginx answering a fixed vLLM-shaped rerank body (return 200), one worker, on core 1.
// 2. Throughput: wrk (Debian's) on core 1 with the same 1.6 KB rerank request against (a) nginx proxying to that
//    upstream (one worker, keep-alive upstream pool) and (b) the gateway started as `npm run gateway` does, both
//    pinned to core 0 with taskset, each after the same 2 s warm-up with that request. Requests/s of each and the
//    ratio (target >= 0.6).
// 3. Node's own ceiling on one core, same pinning and wrk settings: (a) a bare node:http server answering the
//    upstream's fixed body (no proxying) and (b) a minimal pass-through proxy (node:http + an undici Pool to the same
//    upstream, bytes passed through, nothing parsed). Both are this script in `--serve bare|passthrough` mode.
// 4. Latency at a fixed 1,000 req/s: an open-loop loader of ours (wrk2 is not packaged by Debian) sends on a fixed
//    schedule and times each request from its scheduled start (no coordinated omission), against the upstream
//    directly, nginx and the gateway; added p50/p99 = gateway minus direct (targets <= 1 ms and <= 5 ms).
// Everything listens on 127.0.0.1 and is stopped at the end, also on failure.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import {
  BENCH_KEY as KEY,
  BENCH_MODEL as MODEL,
  cpuSeconds,
  freePort,
  rerankBody,
  runBenchmark,
  upstreamAnswer,
  writeBenchStack,
} from "./bench-gateway-parts";

const ROOT = path.resolve(__dirname, "..");

function usage(message: string): never {
  process.stderr.write(
    `bench:gateway: ${message}\nusage: npm run bench:gateway -- [--seconds N] [--rate R] [--connections C]\n` +
      `(internal: --serve bare|passthrough --port N [--upstream URL], a reference server the benchmark starts)\n`,
  );
  process.exit(2);
}

const args = (() => {
  try {
    return parseArgs({
      options: {
        seconds: { type: "string", default: "10" },
        rate: { type: "string", default: "1000" },
        connections: { type: "string", default: "64" },
        serve: { type: "string" },
        port: { type: "string" },
        upstream: { type: "string" },
      },
      strict: true,
    }).values;
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
})();
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const CONNECTIONS = Number(args.connections);
if (!(SECONDS > 0) || !(RATE > 0) || !(CONNECTIONS > 0))
  usage("--seconds, --rate and --connections must be positive numbers");
if (args.serve !== undefined && args.serve !== "bare" && args.serve !== "passthrough")
  usage(`--serve must be bare or passthrough, got ${args.serve}`);

/**
 * The reference servers (`--serve`): what Node itself does on one core for this request, with nothing of the
 * gateway's work. `bare` reads the request and answers the upstream's fixed body; `passthrough` sends the request's
 * bytes to the upstream over an undici Pool (dispatch API, as the gateway uses it) and returns the answer's bytes.
 */
function serveReference(mode: "bare" | "passthrough", port: number, upstream: string | undefined): void {
  const fixed = Buffer.from(upstreamAnswer());
  if (mode === "passthrough" && !upstream) usage("--serve passthrough needs --upstream");
  const pool = mode === "passthrough" ? new Pool(upstream!, { connections: 128, pipelining: 1 }) : undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (!pool) return void res.writeHead(200, { "content-type": "application/json" }).end(fixed);
      const parts: Buffer[] = [];
      let status = 502;
      pool.dispatch(
        {
          path: req.url ?? "/",
          method: "POST",
          headers: { "content-type": "application/json" },
          body: Buffer.concat(chunks),
        },
        {
          onRequestStart: () => {},
          onResponseStart: (_c, code) => void (status = code),
          onResponseData: (_c, chunk) => void parts.push(chunk),
          onResponseEnd: () =>
            void res.writeHead(status, { "content-type": "application/json" }).end(Buffer.concat(parts)),
          onResponseError: () => void res.writeHead(502).end(),
        },
      );
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, "127.0.0.1");
  process.once("SIGTERM", () => process.exit(0));
}

const children: ChildProcess[] = [];
function start(cmd: string, argv: string[], core: number): ChildProcess {
  const child = spawn("taskset", ["-c", String(core), cmd, ...argv], { stdio: ["ignore", "ignore", "pipe"] });
  children.push(child);
  return child;
}

async function waitFor(url: string, init: RequestInit = {}): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      await (await fetch(url, init)).arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not come up`);
}

function nginxConf(dir: string, name: string, server: string): string {
  const file = path.join(dir, `${name}.conf`);
  fs.mkdirSync(path.join(dir, name), { recursive: true });
  fs.writeFileSync(
    file,
    `worker_processes 1;
daemon off;
pid ${dir}/${name}/nginx.pid;
error_log ${dir}/${name}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/${name}/body;
  proxy_temp_path ${dir}/${name}/proxy;
  fastcgi_temp_path ${dir}/${name}/fastcgi;
  uwsgi_temp_path ${dir}/${name}/uwsgi;
  scgi_temp_path ${dir}/${name}/scgi;
  client_max_body_size 32m;
  keepalive_requests 1000000;
${server}
}
`,
  );
  return file;
}

interface WrkResult {
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
}

/** wrk's script for the benchmark's request (the rerank POST with the key). */
function wrkScript(dir: string): string {
  const lua = path.join(dir, "post.lua");
  fs.writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(rerankBody())}\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${KEY}"\n`,
  );
  return lua;
}

/** The same short warm-up for every server (JIT, connection pools) before its measured run. */
function warmUp(url: string, dir: string): void {
  spawnSync("taskset", ["-c", "1", "wrk", "-t1", "-c16", "-d2s", "-s", wrkScript(dir), url]);
}

function wrk(url: string, dir: string, pid: number): WrkResult & { cpuMsPerRequest: number } {
  const lua = wrkScript(dir);
  const cpu0 = cpuSeconds(pid);
  const r = spawnSync(
    "taskset",
    ["-c", "1", "wrk", "-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-s", lua, url],
    { encoding: "utf8" },
  );
  const out = r.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const ms = (label: string) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (!(rps > 0) || non2xx > 0) throw new Error(`wrk against ${url} failed (${non2xx} non-2xx):\n${out}\n${r.stderr}`);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  return { rps, p50ms: ms("50"), p99ms: ms("99"), cpuMsPerRequest: ((cpuSeconds(pid) - cpu0) * 1000) / requests };
}

/** Open loop: request i starts at t0 + i/rate whatever came back; latency counts from that scheduled time. */
async function fixedRate(
  origin: string,
  pathname: string,
  seconds: number,
  rate: number,
): Promise<{ p50: number; p99: number; errors: number }> {
  const pool = new Pool(origin, { connections: 64, pipelining: 1 });
  const body = rerankBody();
  const total = Math.round(seconds * rate);
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now() + 50;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // Sent late: timed from the schedule (no coordinated omission). Sent up to 1 ms early: timed from the send,
    // never from a moment still ahead (which gave negative latencies).
    const from = Math.min(due, performance.now());
    inFlight.push(
      pool
        .request({
          path: pathname,
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
          body,
        })
        .then(async (res) => {
          await res.body.arrayBuffer();
          if (res.statusCode !== 200) errors++;
          latencies.push(performance.now() - from);
        })
        .catch(() => {
          errors++;
        }),
    );
  }
  await Promise.all(inFlight);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), errors };
}

const ratioLine = (name: string, r: WrkResult & { cpuMsPerRequest: number }, nginx: WrkResult) =>
  `${name}: ${r.rps.toFixed(0)} req/s (${(r.rps / nginx.rps).toFixed(2)}x nginx; p50 ${r.p50ms} ms, p99 ${r.p99ms} ms, ${r.cpuMsPerRequest.toFixed(3)} CPU ms/request)`;

async function main(): Promise<void> {
  if (os.cpus().length < 2) usage("needs 2 cores (gateway/nginx on core 0, load generator and upstream on core 1)");
  for (const tool of ["wrk", "nginx", "taskset"])
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
      usage(`${tool} is not installed (Debian: apt-get install ${tool === "taskset" ? "util-linux" : tool})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-gateway-"));
  const [upPort, nginxPort, gwPort, barePort, passPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const answer = upstreamAnswer().replace(/'/g, "\\'");

  start(
    "nginx",
    [
      "-c",
      nginxConf(
        dir,
        "upstream",
        `  server { listen 127.0.0.1:${upPort}; location / { default_type application/json; return 200 '${answer}'; } }`,
      ),
      "-p",
      dir,
    ],
    1,
  );
  const proxy = start(
    "nginx",
    [
      "-c",
      nginxConf(
        dir,
        "proxy",
        `  upstream engine { server 127.0.0.1:${upPort}; keepalive 64; }
  server { listen 127.0.0.1:${nginxPort}; location / { proxy_pass http://engine; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
      ),
      "-p",
      dir,
    ],
    0,
  );
  const stack = writeBenchStack(dir);

  const gatewayProcess = start(
    path.join(ROOT, "node_modules/.bin/tsx"),
    [
      path.join(ROOT, "scripts/gateway.ts"),
      "--stack",
      stack,
      `--upstream=${MODEL}=http://127.0.0.1:${upPort}`,
      "--port",
      String(gwPort),
    ],
    0,
  );
  const reference = (mode: string, port: number) =>
    start(
      path.join(ROOT, "node_modules/.bin/tsx"),
      [__filename, "--serve", mode, "--port", String(port), "--upstream", `http://127.0.0.1:${upPort}`],
      0,
    );
  const bareProcess = reference("bare", barePort);
  const passProcess = reference("passthrough", passPort);
  const post = {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: rerankBody(),
  };
  await Promise.all([
    waitFor(`http://127.0.0.1:${upPort}/v1/rerank`, post),
    waitFor(`http://127.0.0.1:${nginxPort}/v1/rerank`, post),
    waitFor(`http://127.0.0.1:${gwPort}/v1/rerank`, post),
    waitFor(`http://127.0.0.1:${barePort}/v1/rerank`, post),
    waitFor(`http://127.0.0.1:${passPort}/v1/rerank`, post),
  ]);
  const check = await (await fetch(`http://127.0.0.1:${gwPort}/v1/rerank`, post)).json();
  if (!Array.isArray((check as { results?: unknown }).results))
    throw new Error(`gateway answered ${JSON.stringify(check)}`);

  process.stdout.write(
    `body ${Buffer.byteLength(rerankBody())} bytes; wrk -t1 -c${CONNECTIONS} -d${SECONDS}s; gateway and nginx on core 0, wrk and upstream on core 1\n`,
  );
  const load = os.loadavg()[0]!;
  const measure = (port: number, pid: number) => {
    warmUp(`http://127.0.0.1:${port}/v1/rerank`, dir);
    return wrk(`http://127.0.0.1:${port}/v1/rerank`, dir, pid);
  };
  const nginx = measure(nginxPort, proxy.pid!);
  const gateway = measure(gwPort, gatewayProcess.pid!);
  const bare = measure(barePort, bareProcess.pid!);
  const passthrough = measure(passPort, passProcess.pid!);
  // The reference servers share core 0 with the gateway: stopped before the latency runs, so that their V8 heaps
  // (collected in idle time after a load) do not steal the gateway's core (seen as an 11 ms p99 when left running).
  await Promise.all([bareProcess, passProcess].map(stopProcess));
  const ratio = gateway.rps / nginx.rps;
  const cpuRatio = nginx.cpuMsPerRequest / gateway.cpuMsPerRequest;
  process.stdout.write(
    `throughput: nginx ${nginx.rps.toFixed(0)} req/s (p50 ${nginx.p50ms} ms, p99 ${nginx.p99ms} ms, ${nginx.cpuMsPerRequest.toFixed(3)} CPU ms/request); gateway ${gateway.rps.toFixed(0)} req/s (p50 ${gateway.p50ms} ms, p99 ${gateway.p99ms} ms, ${gateway.cpuMsPerRequest.toFixed(3)} CPU ms/request)\n` +
      `ratio of requests/s ${ratio.toFixed(2)} (target >= 0.60: ${ratio >= 0.6 ? "met" : "NOT met"}); ratio of CPU cost per request (one-core capacity, independent of other load) ${cpuRatio.toFixed(2)}; load average ${load.toFixed(1)} on ${os.cpus().length} cores${load > os.cpus().length ? " (machine busy: requests/s and latencies are not representative)" : ""}\n`,
  );
  process.stdout.write(
    `Node's ceiling on one core (reference rows, same pinning and wrk): ${ratioLine("bare node:http answering the fixed body", bare, nginx)}; ${ratioLine("node:http + undici pass-through proxy, nothing parsed", passthrough, nginx)}\n` +
      `the gateway reaches ${(gateway.rps / passthrough.rps).toFixed(2)}x the pass-through proxy's requests/s and ${(gateway.rps / bare.rps).toFixed(2)}x the bare server's; 0.6x nginx would be ${(0.6 * nginx.rps).toFixed(0)} req/s, ${((0.6 * nginx.rps) / bare.rps).toFixed(2)}x what the bare Node server reaches\n`,
  );
  const fixed = async (name: string, port: number) => {
    const r = await fixedRate(`http://127.0.0.1:${port}`, "/v1/rerank", SECONDS, RATE);
    process.stdout.write(
      `at ${RATE} req/s for ${SECONDS} s, ${name}: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, errors ${r.errors}\n`,
    );
    return r;
  };
  const direct = await fixed("upstream directly", upPort);
  const viaNginx = await fixed("through nginx", nginxPort);
  const viaGateway = await fixed("through the gateway", gwPort);
  const addedP50 = viaGateway.p50 - direct.p50;
  const addedP99 = viaGateway.p99 - direct.p99;
  process.stdout.write(
    `added by the gateway at ${RATE} req/s: p50 ${addedP50.toFixed(3)} ms (target <= 1: ${addedP50 <= 1 ? "met" : "NOT met"}), p99 ${addedP99.toFixed(3)} ms (target <= 5: ${addedP99 <= 5 ? "met" : "NOT met"}); nginx adds p50 ${(viaNginx.p50 - direct.p50).toFixed(3)} ms, p99 ${(viaNginx.p99 - direct.p99).toFixed(3)} ms\n`,
  );
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

function stopAll(): void {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
}
if (args.serve) serveReference(args.serve as "bare" | "passthrough", Number(args.port), args.upstream);
else runBenchmark("bench:gateway", main, stopAll);
