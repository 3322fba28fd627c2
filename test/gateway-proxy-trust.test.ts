import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import { planGateway } from "../components/gateway";
import { controller } from "../components/ingress/controller";
import { Gateway } from "../images/gateway/src/server";
import { parseStack } from "./config-helpers";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startFakeKubeApi, type FakeKubeApi } from "./fixtures/fake-kube-api";
import { sharedPlan } from "./shared-plans";

/**
 * Failed-auth throttling per client address behind the ingress (issue #21): the gateway trusts X-Forwarded-For
 * from the ingress controller's pods, learnt from the controller Service's EndpointSlices (a fake Kubernetes API),
 * plus the trustedProxies CIDRs. Callers on loopback addresses over real sockets: 127.0.0.2 is a controller pod,
 * 127.0.0.3 an arbitrary peer, 127.0.0.4 a proxy named by CIDR only, 127.0.0.5 a terminating controller pod.
 */
const INGRESS_NS = "ingress";
const SERVICE = controller.proxyService;
const KEY = "proxy-trust-test-key-0123456789";
const FAILURES = 3; // authFailuresPerMinute: the 4th failure within a minute is a 429
let api: FakeKubeApi;
let engine: FakeServer;
let gw: Gateway;
let url: URL;
let metricsUrl: string;
const logs: string[] = [];

beforeAll(async () => {
  api = await startFakeKubeApi();
  engine = await startFakeServer({ dialect: "tei", servedModel: "emb", dims: 8 });
  api.set(INGRESS_NS, SERVICE, [
    { ip: "127.0.0.2", port: 80, ready: true },
    { ip: "127.0.0.5", port: 80, ready: false },
  ]);
  gw = new Gateway({
    config: RuntimeConfigSchema.parse({
      models: [
        {
          name: "emb",
          task: "embed",
          dialect: "tei",
          upstreams: [engine.url],
          dims: 8,
          maxTokens: 512,
          ownedBy: "tei",
        },
      ],
      keys: [{ name: "team-a", sha256: [createHash("sha256").update(KEY).digest("hex")] }],
      limits: { requestsPerSecond: 1000, burst: 1000 },
      redis: { onDown: "fail-open" },
      maxBodyBytes: 1 << 20,
      maxInputs: 16,
      maxDocuments: 16,
      upstreamTimeoutMs: 5000,
      attempts: 1,
      breaker: { failures: 50, cooldownMs: 1000 },
      metricsPort: 0,
      authFailuresPerMinute: FAILURES,
      trustedProxies: ["127.0.0.4/32"],
      proxyDiscovery: { namespace: INGRESS_NS, service: SERVICE },
    }),
    audit: () => {},
    log: (m) => logs.push(m),
    kubeApi: { url: api.url, token: () => api.token },
  });
  url = new URL(`http://127.0.0.1:${await gw.listen(0)}`);
  metricsUrl = `http://127.0.0.1:${gw.metricsPort}/metrics`;
}, 30_000);

afterAll(async () => {
  await gw?.shutdown();
  await engine?.close();
  await api?.close();
});

/** One embeddings call from a chosen loopback address, with an optional X-Forwarded-For. */
function call(from: string, key: string, xff?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: "/v1/embeddings",
        method: "POST",
        localAddress: from,
        agent: false,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${key}`,
          ...(xff ? { "x-forwarded-for": xff } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ model: "emb", input: "hello" }));
  });
}
let n = 0;
const wrong = () => `wrong-key-${n++}-0123456789`;
/** FAILURES + 1 failed calls: the statuses (FAILURES x 401 then 429 when they count against one client). */
const failures = async (from: string, xff: (i: number) => string | undefined) => {
  const out: number[] = [];
  for (let i = 0; i <= FAILURES; i++) out.push(await call(from, wrong(), xff(i)));
  return out;
};
const THROTTLED = [...Array<number>(FAILURES).fill(401), 429];
const proxiesGauge = async () =>
  Number(/^retrieval_gateway_discovered_proxies (\S+)$/m.exec(await (await fetch(metricsUrl)).text())?.[1]);
async function until(check: () => Promise<boolean>, maxMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > maxMs) throw new Error(`not within ${maxMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("X-Forwarded-For is trusted from the ingress controller's discovered pods only", () => {
  it("learns the controller's pods (ready or terminating) from its EndpointSlices", async () => {
    await until(async () => (await proxiesGauge()) === 2);
  });

  it("from a controller pod, failures count against the forwarded client: one client throttled, another not", async () => {
    expect(await failures("127.0.0.2", () => "203.0.113.7")).toEqual(THROTTLED);
    expect(await call("127.0.0.2", wrong(), "203.0.113.8")).toBe(401);
    // The throttled client's valid key is served at once.
    expect(await call("127.0.0.2", KEY, "203.0.113.7")).toBe(200);
    // A terminating controller pod (ready: false) still forwards for its open connections: still trusted.
    expect(await call("127.0.0.5", wrong(), "203.0.113.7")).toBe(429);
  });

  it("from an arbitrary peer the header is ignored: a new X-Forwarded-For per try does not escape the throttle", async () => {
    expect(await failures("127.0.0.3", (i) => `198.51.100.${i + 1}`)).toEqual(THROTTLED);
    // ... and cannot frame someone else: 203.0.113.8 (one failure so far) is not throttled by these.
    expect(await call("127.0.0.2", wrong(), "203.0.113.8")).toBe(401);
  });

  it("spoofed chains: the right-most address that is not a trusted proxy is the client", async () => {
    // The client sent "X-Forwarded-For: 203.0.113.7" (the throttled one) to frame it; the controller appended the
    // real address. Counted against 192.0.2.10, which is not throttled.
    expect(await call("127.0.0.2", wrong(), "203.0.113.7, 192.0.2.10")).toBe(401);
    // The client's own spoofed entry cannot get it out of its throttle either: right-most wins.
    expect(await failures("127.0.0.2", (i) => `10.${i}.0.1, 192.0.2.20`)).toEqual(THROTTLED);
    // Two proxies in a row (a trusted hop inside the chain) are skipped: the client is the entry before them.
    expect(await call("127.0.0.2", wrong(), "192.0.2.20, 127.0.0.5")).toBe(429);
    // A garbage right-most entry: the peer (the proxy) is the client, never a name the header chose.
    expect(await call("127.0.0.5", wrong(), "203.0.113.7, not-an-address")).toBe(401);
  });

  it("discovery down: only the trustedProxies CIDRs are trusted (never an arbitrary peer), visible as -1 and a log line; back when the API is", async () => {
    api.down();
    await until(async () => (await proxiesGauge()) === -1);
    expect(logs.some((l) => /ingress controller .*trusted only from trustedProxies \(127\.0\.0\.4\/32\)/.test(l))).toBe(
      true,
    );
    // 127.0.0.2 is no longer trusted: its XFF is ignored, failures count against 127.0.0.2 itself.
    expect(await failures("127.0.0.2", (i) => `192.0.2.${100 + i}`)).toEqual(THROTTLED);
    // The CIDR proxy is still trusted.
    expect(await call("127.0.0.4", wrong(), "192.0.2.200")).toBe(401);
    expect(await failures("127.0.0.4", () => "192.0.2.201")).toEqual(THROTTLED);
    api.up();
    await until(async () => (await proxiesGauge()) === 2);
    expect(await call("127.0.0.2", wrong(), "192.0.2.202")).toBe(401);
  }, 40_000);
});

describe("the Role that lets the gateway read the controller's EndpointSlices", () => {
  const config = parseStack("prod");
  const plan = planGateway({
    name: "gateway",
    environment: config.environment,
    gateway: config.gateway,
    models: config.models,
    namespace: "retrieval",
    modelsNamespace: "retrieval",
    monitoring: true,
    secretKeys: true,
    image: "example.com/gateway:1",
    ingressProxies: { namespace: INGRESS_NS, service: SERVICE },
  });

  it("is read-only, one resource, in the ingress namespace, bound to the gateway's ServiceAccount; the config names the Service", () => {
    expect(plan.discovery.proxyRole).toEqual({
      metadata: expect.objectContaining({ name: "retrieval-gateway-discovery", namespace: INGRESS_NS }),
      rules: [{ apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] }],
    });
    expect(plan.discovery.proxyRoleBinding).toMatchObject({
      metadata: { name: "retrieval-gateway-discovery", namespace: INGRESS_NS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "retrieval-gateway-discovery" },
      subjects: [{ kind: "ServiceAccount", name: "retrieval-gateway-discovery", namespace: "retrieval" }],
    });
    expect(plan.runtimeConfig.proxyDiscovery).toEqual({ namespace: INGRESS_NS, service: "nginx-ingress-controller" });
    // Without an ingress there is nothing to trust but the CIDRs: no Role, no discovery.
    const bare = planGateway({
      name: "gateway",
      environment: config.environment,
      gateway: config.gateway,
      models: config.models,
      namespace: "retrieval",
      modelsNamespace: "retrieval",
      monitoring: true,
      secretKeys: true,
      image: "example.com/gateway:1",
    });
    expect(bare.discovery.proxyRole).toBeUndefined();
    expect(bare.runtimeConfig.proxyDiscovery).toBeUndefined();
  });

  it("the prod stack renders it (the stack's ingress wires its controller Service in)", async () => {
    const { out, result } = await sharedPlan("prod");
    expect(result.code).toBe(0);
    const docs = fs
      .readdirSync(path.join(out, "manifests"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".yaml"))
      .flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(out, "manifests", f), "utf8")))
      .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string }; data?: any });
    const roles = docs.filter((d) => d.kind === "Role" && d.metadata?.namespace === INGRESS_NS);
    expect(roles.map((r) => r.metadata!.name)).toContain("retrieval-gateway-discovery");
    const bindings = docs.filter((d) => d.kind === "RoleBinding" && d.metadata?.namespace === INGRESS_NS);
    expect(bindings.map((r) => r.metadata!.name)).toContain("retrieval-gateway-discovery");
    const cm = docs.find((d) => d.kind === "ConfigMap" && d.metadata?.name === "retrieval-gateway");
    expect(JSON.parse(cm!.data["config.json"]).proxyDiscovery).toEqual({
      namespace: INGRESS_NS,
      service: "nginx-ingress-controller",
    });
    // plan.md says where client addresses come from, and each model's fair-admission figure with its source.
    const md = fs.readFileSync(path.join(out, "plan.md"), "utf8");
    expect(md).toContain(
      "X-Forwarded-For trusted from the ingress controller's pods (EndpointSlices of ingress/nginx-ingress-controller)",
    );
    expect(md).toMatch(/Fair admission, sequences in flight per ready pod: .*256 \(vLLM's --max-num-seqs default/);
  }, 300_000);
});
