// `npm run bench:gateway-ab -- <git-ref> [<git-ref>...] [--rounds N] [--seconds S]`: the gateway's CPU per request,
// before -> after, measured back to back (docs/gateway.md, "Benchmark"). On a shared machine one day's CPU figure
// does not compare with another day's (every row, nginx's included, moves); gateways of several commits measured
// in the same minutes do. Each ref is exported with `git archive` into a temporary directory (node_modules linked
// to this checkout's) and the working tree is measured as "worktree". Every gateway is started as
// `npm run gateway` does, pinned to core 0, in front of the same instant nginx upstream on core 1 (the rerank of
// `npm run bench:gateway`); each round runs `wrk -t1 -c64` for S seconds after a 2 s warm-up against every gateway
// in rotating order, CPU from /proc (process and children). Prints each gateway's median, best and per-round ratio
// to the first ref. 127.0.0.1 only; everything started is stopped at the end, also on failure.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
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
const USAGE =
  "usage: npm run bench:gateway-ab -- <git-ref> [<git-ref>...] [--rounds N (1..20, default 6)] [--seconds S (2..30, default 5)]";

function usage(message: string): never {
  process.stderr.write(`bench:gateway-ab: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const args = (() => {
  try {
    return parseArgs({
      options: { rounds: { type: "string", default: "6" }, seconds: { type: "string", default: "5" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
})();
const ROUNDS = Number(args.values.rounds);
const SECONDS = Number(args.values.seconds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) usage(`--rounds must be 1..20, got ${args.values.rounds}`);
if (!Number.isInteger(SECONDS) || SECONDS < 2 || SECONDS > 30)
  usage(`--seconds must be 2..30, got ${args.values.seconds}`);
if (args.positionals.length === 0) usage("name at least one git ref to compare with the working tree");

/** The 1.6 KB rerank of `npm run bench:gateway` and the instant upstream's vLLM-shaped answer to it. */
const BODY = rerankBody();
const ANSWER = upstreamAnswer();

const children: ChildProcess[] = [];
function start(cmd: string, argv: string[], core: number): ChildProcess {
  const child = spawn("taskset", ["-c", String(core), cmd, ...argv], { stdio: ["ignore", "ignore", "ignore"] });
  children.push(child);
  return child;
}

/** The commit a ref names, or usage and exit 2. */
function commitOf(ref: string): string {
  try {
    return execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    usage(`${ref} is not a commit of this repository`);
  }
}

/** A checkout of `commit` in a temporary directory, sharing this checkout's node_modules. */
function exportCommit(commit: string, dir: string): string {
  const target = path.join(dir, commit.slice(0, 12));
  fs.mkdirSync(target);
  const tar = spawnSync("sh", ["-c", `git archive ${commit} | tar -x -C "${target}"`], { cwd: ROOT });
  if (tar.status !== 0) throw new Error(`git archive ${commit} failed: ${tar.stderr}`);
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(target, "node_modules"));
  return target;
}

async function answered(port: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/rerank`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: BODY,
      });
      const json = (await res.json()) as { results?: unknown };
      if (Array.isArray(json.results)) return;
      throw new Error(`answered ${JSON.stringify(json).slice(0, 200)}`);
    } catch (e) {
      if (i === 599) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  if (os.cpus().length < 2) usage("needs 2 cores (the gateways on core 0, wrk and the upstream on core 1)");
  for (const tool of ["wrk", "nginx", "taskset", "tar"])
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) usage(`${tool} is not installed`);
  const commits = args.positionals.map((ref) => ({ ref, commit: commitOf(ref) }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-gateway-ab-"));
  tempDirs.push(dir);
  const trees = [
    ...commits.map(({ ref, commit }) => ({ name: ref, root: exportCommit(commit, dir) })),
    { name: "worktree", root: ROOT },
  ];
  const up = await freePort();
  fs.mkdirSync(path.join(dir, "nginx"));
  const conf = path.join(dir, "nginx.conf");
  const t = path.join(dir, "nginx");
  fs.writeFileSync(
    conf,
    `worker_processes 1;\ndaemon off;\npid ${t}/nginx.pid;\nerror_log ${t}/error.log warn;\nevents { worker_connections 4096; }\n` +
      `http { access_log off; client_body_temp_path ${t}/b; proxy_temp_path ${t}/p; fastcgi_temp_path ${t}/f; ` +
      `uwsgi_temp_path ${t}/u; scgi_temp_path ${t}/s; keepalive_requests 1000000;\n` +
      `  server { listen 127.0.0.1:${up}; location / { default_type application/json; return 200 '${ANSWER}'; } } }\n`,
  );
  start("nginx", ["-c", conf, "-p", dir], 1);
  const stack = writeBenchStack(dir);

  const lua = path.join(dir, "post.lua");
  fs.writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${KEY}"\n`,
  );
  const gateways = await Promise.all(
    trees.map(async (tree) => {
      const port = await freePort();
      const proc = start(
        path.join(ROOT, "node_modules/.bin/tsx"),
        [
          path.join(tree.root, "scripts/gateway.ts"),
          "--stack",
          stack,
          `--upstream=${MODEL}=http://127.0.0.1:${up}`,
          "--port",
          String(port),
        ],
        0,
      );
      return { ...tree, port, proc, cpuMs: [] as number[] };
    }),
  );
  for (const g of gateways) await answered(g.port);
  const load0 = os.loadavg()[0]!;
  for (let round = 0; round < ROUNDS; round++) {
    const order = gateways.map((_, i) => gateways[(i + round) % gateways.length]!);
    for (const g of order) {
      const url = `http://127.0.0.1:${g.port}/v1/rerank`;
      spawnSync("taskset", ["-c", "1", "wrk", "-t1", "-c16", "-d2s", "-s", lua, url]);
      const cpu0 = cpuSeconds(g.proc.pid!);
      const out = spawnSync("taskset", ["-c", "1", "wrk", "-t1", "-c64", `-d${SECONDS}s`, "-s", lua, url], {
        encoding: "utf8",
      }).stdout;
      const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      if (!(requests > 0) || non2xx > 0) throw new Error(`wrk against ${g.name} failed (${non2xx} non-2xx):\n${out}`);
      g.cpuMs.push(((cpuSeconds(g.proc.pid!) - cpu0) * 1000) / requests);
    }
    process.stderr.write(
      `round ${round + 1}/${ROUNDS}: ${gateways.map((g) => `${g.name} ${g.cpuMs.at(-1)!.toFixed(4)}`).join(", ")} CPU ms/request\n`,
    );
  }
  const base = gateways[0]!;
  process.stdout.write(
    `CPU ms per request, wrk -t1 -c64 ${SECONDS} s x ${ROUNDS} rounds, load average ${load0.toFixed(2)} -> ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores\n` +
      gateways
        .map((g) => {
          const ratios = g.cpuMs.map((v, i) => v / base.cpuMs[i]!);
          return `${g.name}: median ${median(g.cpuMs).toFixed(4)}, best ${Math.min(...g.cpuMs).toFixed(4)}; vs ${base.name}: medians ${(median(g.cpuMs) / median(base.cpuMs)).toFixed(2)}x, per-round ratio median ${median(ratios).toFixed(2)}x, best rounds ${(Math.min(...g.cpuMs) / Math.min(...base.cpuMs)).toFixed(2)}x`;
        })
        .join("\n") +
      "\n",
  );
}

const tempDirs: string[] = [];
function stopAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
}
runBenchmark("bench:gateway-ab", main, stopAll);
