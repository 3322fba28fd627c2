// `npm run bench:routing [-- --seconds N]`: per-connection balancing (what a keep-alive pool to a ClusterIP gets
// from kube-proxy) against the gateway's per-pod routing by least outstanding work (docs/gateway.md, "Routing").
// Three fake engine pods on 127.0.0.2-4 (one port, as pods of a Deployment), each running at most CAPACITY requests
// at once with a service time proportional to the request's tokens; a mix of small, medium and large reranks.
// - per-connection: the gateway's model upstream is a TCP proxy on 127.0.0.1 that pins each new connection to a
//   random pod (kube-proxy's iptables mode does the same per connection); the gateway reuses its connections.
// - per-pod: the gateway discovers the pods from a fake Kubernetes API's EndpointSlices and routes each request.
// Measured: fleet throughput at the p99 SLO (highest offered rate whose p99 meets it, as a share of the ideal
// fleet rate), p99 at 80 % of the ideal rate against one pod's p99 at 80 % of its own ideal rate, and the share a
// fourth pod gets in the 5 s after it appears (fair share 25 %). Open-loop load (each request timed from its
// scheduled start). Everything runs in this one process on loopback and stops by itself; the machine is shared,
// so figures move between runs (compare the two modes of one run).
import * as net from "node:net";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import { Gateway } from "../images/gateway/src/server";
import { startCapacityEngine, type CapacityEngine } from "../test/fixtures/capacity-engine";
import { startFakeKubeApi, type FakeKubeApi } from "../test/fixtures/fake-kube-api";
import { freePort } from "../test/free-port";

const CAPACITY = 4;
const MS_PER_TOKEN = 0.2;
/** The request mix: share, documents, words per document. */
const MIX = [
  { share: 0.7, docs: 4, words: 16 },
  { share: 0.25, docs: 16, words: 30 },
  { share: 0.05, docs: 48, words: 60 },
] as const;
const NS = "retrieval";

function usage(message: string): never {
  process.stderr.write(`bench:routing: ${message}\nusage: npm run bench:routing -- [--seconds N]\n`);
  process.exit(2);
}

const opts = (() => {
  try {
    return parseArgs({ options: { seconds: { type: "string", default: "5" } } }).values;
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
})();
const SECONDS = Number(opts.seconds);
if (!Number.isFinite(SECONDS) || SECONDS < 1 || SECONDS > 60) usage("--seconds must be 1..60");

/** Tokens as the fake engine counts them (characters / 4), and its service time. */
const docText = (i: number, words: number) => `document ${i} ${"word ".repeat(words)}`;
const tokensOf = (s: string) => Math.max(1, Math.ceil(s.length / 4));
function serviceMs(docs: number, words: number): number {
  let t = 0;
  for (let i = 0; i < docs; i++) t += tokensOf("q") + tokensOf(docText(i, words));
  return 1 + t * MS_PER_TOKEN;
}
const MEAN_MS = MIX.reduce((s, m) => s + m.share * serviceMs(m.docs, m.words), 0);
const LARGEST_MS = Math.max(...MIX.map((m) => serviceMs(m.docs, m.words)));
/** Requests/s one pod sustains at full use, and the fleet of three. */
const POD_RATE = (CAPACITY * 1000) / MEAN_MS;
const IDEAL = 3 * POD_RATE;
/** The p99 objective: 1.25x the largest request's own service time (queueing may add a quarter of it). */
const SLO_MS = 1.25 * LARGEST_MS;

/** kube-proxy's per-connection balancing: each new TCP connection goes to a random pod, for its whole life. */
async function connectionBalancer(backends: () => readonly { host: string; port: number }[]) {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const list = backends();
    const b = list[Math.floor(Math.random() * list.length)]!;
    const upstream = net.connect(b.port, b.host);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function runtime(upstream: string, discovery: boolean) {
  return RuntimeConfigSchema.parse({
    models: [
      {
        name: "rr",
        task: "rerank",
        dialect: "tei",
        upstreams: [upstream],
        maxTokens: 512,
        ownedBy: "tei",
        ...(discovery ? { discovery: { namespace: NS, service: "rr", portName: "http" } } : {}),
      },
    ],
    limits: { requestsPerSecond: 100000, burst: 100000 },
    redis: { onDown: "fail-open" },
    maxBodyBytes: 1 << 22,
    maxInputs: 2048,
    maxDocuments: 1000,
    upstreamTimeoutMs: 60_000,
    attempts: 2,
    breaker: { failures: 1000, cooldownMs: 1000 },
    allowAnonymous: true,
    metricsPort: 0,
  });
}

/** Open-loop load at `rate` req/s for `seconds`: each request's latency from its scheduled start. */
async function load(url: string, rate: number, seconds: number, onDone?: () => void): Promise<number[]> {
  const client = new Pool(url, { connections: 256, pipelining: 1 });
  const bodies = MIX.map((m) =>
    JSON.stringify({
      model: "rr",
      query: "q",
      documents: Array.from({ length: m.docs }, (_, i) => docText(i, m.words)),
    }),
  );
  const pickBody = () => {
    let x = Math.random();
    for (const [i, m] of MIX.entries()) if ((x -= m.share) < 0) return bodies[i]!;
    return bodies[0]!;
  };
  const latencies: number[] = [];
  const calls: Promise<void>[] = [];
  const t0 = performance.now();
  const n = Math.round(rate * seconds);
  for (let i = 0; i < n; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    calls.push(
      client
        .request({
          path: "/v1/rerank",
          method: "POST",
          headers: { "content-type": "application/json" },
          body: pickBody(),
        })
        .then(async (r) => {
          await r.body.dump();
          latencies.push(r.statusCode === 200 ? performance.now() - at : Infinity);
          onDone?.();
        }),
    );
  }
  await Promise.all(calls);
  await client.close();
  return latencies;
}

const p99 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.ceil(s.length * 0.99) - 1] ?? Infinity;
};

interface Fleet {
  readonly name: string;
  readonly url: string;
  addPod(): Promise<CapacityEngine>;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  const port = await freePort();
  const pods: CapacityEngine[] = [];
  for (const host of ["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    pods.push(await startCapacityEngine({ host, port, capacity: CAPACITY, msPerToken: MS_PER_TOKEN }));
  const extra: CapacityEngine[] = [];
  let api: FakeKubeApi | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  try {
    api = await startFakeKubeApi();
    const kube = api;
    const live = () => [...pods, ...extra].map((p) => ({ host: p.host, port }));
    const publish = () =>
      kube.set(
        NS,
        "rr",
        [...pods, ...extra].map((p) => ({ ip: p.host, port, ready: true })),
      );
    publish();

    const balancer = await connectionBalancer(live);
    closers.push(balancer.close);
    const perConnection = new Gateway({
      config: runtime(balancer.url, false),
      audit: () => {},
      log: () => {},
      kubeApi: false,
    });
    const perPod = new Gateway({
      config: runtime(pods[0]!.url, true),
      audit: () => {},
      log: () => {},
      kubeApi: { url: kube.url, token: () => kube.token },
    });
    closers.push(
      () => perConnection.shutdown(),
      () => perPod.shutdown(),
    );
    const fleets: Fleet[] = [];
    for (const [name, g] of [
      ["per-connection (kube-proxy, today)", perConnection],
      ["per-pod, least outstanding work", perPod],
    ] as const) {
      const url = `http://127.0.0.1:${await g.listen(0)}`;
      fleets.push({
        name,
        url,
        addPod: async () => {
          const e = await startCapacityEngine({
            host: "127.0.0.5",
            port,
            capacity: CAPACITY,
            msPerToken: MS_PER_TOKEN,
          });
          extra.push(e);
          publish();
          return e;
        },
        close: async () => {
          for (const e of extra.splice(0)) await e.close();
          publish();
        },
      });
    }
    await new Promise((r) => setTimeout(r, 500)); // discovery's first LIST

    const out: string[] = [];
    out.push(
      `pods: 3 x capacity ${CAPACITY}, ${MS_PER_TOKEN} ms/token; mix ${MIX.map((m) => `${Math.round(m.share * 100)}% ${m.docs} docs (${serviceMs(m.docs, m.words).toFixed(0)} ms)`).join(", ")}; mean ${MEAN_MS.toFixed(1)} ms`,
      `ideal fleet rate ${IDEAL.toFixed(1)} req/s (one pod ${POD_RATE.toFixed(1)}); p99 SLO ${SLO_MS.toFixed(0)} ms; ${SECONDS} s per step`,
    );

    // One pod alone at 80 % of its own ideal rate (through a gateway of its own): the p99 a fleet should match.
    const alone = new Gateway({ config: runtime(pods[0]!.url, false), audit: () => {}, log: () => {}, kubeApi: false });
    closers.push(() => alone.shutdown());
    const aloneUrl = `http://127.0.0.1:${await alone.listen(0)}`;
    await load(aloneUrl, 0.5 * POD_RATE, 1);
    const single = p99(await load(aloneUrl, 0.8 * POD_RATE, SECONDS));
    out.push(`one pod at 80 % load, p99: ${single.toFixed(0)} ms`);

    for (const f of fleets) {
      // Warm up the connections.
      await load(f.url, 0.5 * IDEAL, 1);
      const at80 = p99(await load(f.url, 0.8 * IDEAL, SECONDS));
      let best = 0;
      for (const share of [0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0]) {
        const p = p99(await load(f.url, share * IDEAL, SECONDS));
        if (p <= SLO_MS) best = share;
        else break;
      }
      // A fourth pod appears under 60 % load; its share of requests in the 5 s after.
      const steady = load(f.url, 0.6 * IDEAL, 7);
      await new Promise((r) => setTimeout(r, 1500));
      for (const p of [...pods]) p.reset();
      const fourth = await f.addPod();
      await new Promise((r) => setTimeout(r, 5000));
      const all = [...pods, fourth].reduce((s, p) => s + p.served(), 0);
      const share4 = all ? fourth.served() / all : 0;
      await steady;
      await f.close();
      out.push(
        `${f.name}: throughput at p99 SLO ${(best * IDEAL).toFixed(1)} req/s = ${best.toFixed(2)}x ideal; p99 at 80 % load ${at80.toFixed(0)} ms = ${(at80 / single).toFixed(2)}x one pod's; 4th pod's share in its first 5 s ${(share4 * 100).toFixed(1)} % (fair 25 %)`,
      );
    }
    process.stdout.write(`${out.join("\n")}\n`);
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
    await Promise.all([...pods, ...extra].map((p) => p.close()));
    await api?.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench:routing: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
