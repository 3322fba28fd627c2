/**
 * The quality canary: its schedule window, its scores, its skip rule, its bundle as the image runs it, and the
 * objects the QualityCanary component renders. Real sockets on 127.0.0.1 against the fake engines.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { build, stop as stopEsbuild } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { CanarySchema, ModelConfigSchema } from "../components/config";
import { cronMatches, withinActiveHours } from "../images/canary/src/active-hours";
import { CanaryConfigSchema, CanaryTargetSchema } from "../components/contracts/canary";
import { Registry } from "../images/canary/src/metrics";
import { bundledSet, ndcgAt, parseUserSet, reciprocalRank } from "../images/canary/src/quality";
import { nextDelayMs, runTarget } from "../images/canary/src/run";
import { QualityCanary } from "../components/observability/quality-canary";
import { ENGINE_CLIENT_LABEL, VERIFIER_POD_LABEL } from "../components/k8s/namespaces";
import { canaryBuildOptions } from "../images/bundle";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { renderResources } from "./harness";
import { freePort } from "./free-port";

const servers: FakeServer[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "canary-"));
afterAll(async () => {
  // esbuild's build service outlives the build until stopped.
  await stopEsbuild();
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const SHANGHAI_WORKDAYS = { timezone: "Asia/Shanghai", start: "0 8 * * 1-5", end: "0 20 * * 1-5" };

describe("active hours, read like KEDA's cron window", () => {
  it("is open from the last start until the next end, in the window's time zone", () => {
    // Tuesday 2026-12-01: 09:30 in Shanghai is 01:30 UTC.
    expect(withinActiveHours(SHANGHAI_WORKDAYS, new Date("2026-12-01T01:30:00Z"))).toBe(true);
    // 21:00 Shanghai (13:00 UTC): closed. 07:59 Shanghai: closed.
    expect(withinActiveHours(SHANGHAI_WORKDAYS, new Date("2026-12-01T13:00:00Z"))).toBe(false);
    expect(withinActiveHours(SHANGHAI_WORKDAYS, new Date("2026-11-30T23:59:00Z"))).toBe(false);
    // Saturday 2026-12-05 10:00 Shanghai: closed since Friday 20:00.
    expect(withinActiveHours(SHANGHAI_WORKDAYS, new Date("2026-12-05T02:00:00Z"))).toBe(false);
    // A window across midnight: 22:00 to 06:00 UTC.
    const night = { timezone: "UTC", start: "0 22 * * *", end: "0 6 * * *" };
    expect(withinActiveHours(night, new Date("2026-12-01T03:00:00Z"))).toBe(true);
    expect(withinActiveHours(night, new Date("2026-12-01T12:00:00Z"))).toBe(false);
  });
  it("matches lists, ranges, steps and names", () => {
    const at = new Date("2026-12-01T10:15:00Z"); // Tuesday
    expect(cronMatches("*/15 10 * * tue", at, "UTC")).toBe(true);
    expect(cronMatches("0,15,30 9-11 1 DEC *", at, "UTC")).toBe(true);
    expect(cronMatches("*/20 10 * * *", at, "UTC")).toBe(false);
    expect(cronMatches("15 10 * * 1", at, "UTC")).toBe(false);
  });
});

describe("scores", () => {
  it("MRR@10 and NDCG@10 with binary relevance", () => {
    expect(reciprocalRank(["a", "b", "c"], ["b"])).toBe(0.5);
    expect(reciprocalRank(["a", "b", "c"], ["c", "b"])).toBe(0.5);
    expect(reciprocalRank([..."abcdefghijk"], ["k"])).toBe(0);
    expect(ndcgAt(["a", "b"], ["a"])).toBe(1);
    expect(ndcgAt(["x", "a"], ["a"])).toBeCloseTo(1 / Math.log2(3), 10);
    expect(ndcgAt(["a", "x", "b"], ["a", "b"])).toBeCloseTo((1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3)), 10);
  });
  it("a user set is JSONL of query, candidates and relevant ids; mistakes name the line", () => {
    const set = parseUserSet(
      '{"query":"q","candidates":[{"id":"a","text":"A"},{"id":"b","text":"B"}],"relevant":["b"]}\n\n',
    );
    expect(set.queries).toHaveLength(1);
    expect(() => parseUserSet('{"query":"q","candidates":[{"id":"a","text":"A"}],"relevant":["z"]}')).toThrow(
      /line 1: relevant id\(s\) z not among the candidates/,
    );
    expect(() => parseUserSet('{"query":"q"}\nnot json')).toThrow(/line 1: candidates/);
    expect(() => parseUserSet("")).toThrow(/no queries/);
  });
  it("the bundled set: an embedding model ranks the whole corpus, a reranker the verifier's 16 candidates", () => {
    expect(bundledSet("embed").queries[0]!.candidates.length).toBe(42);
    expect(bundledSet("rerank").queries.every((q) => q.candidates.length === 16)).toBe(true);
  });
  it("waits interval ± jitter", () => {
    expect(nextDelayMs({ intervalSeconds: 300, jitterSeconds: 30 }, () => 0)).toBe(270_000);
    expect(nextDelayMs({ intervalSeconds: 300, jitterSeconds: 30 }, () => 1)).toBe(330_000);
  });
});

describe("one run against the fake engines", () => {
  const config = { requestTimeoutSeconds: 5, maxRetries: 0, intervalSeconds: 60 };

  it("an embedding model: every check passes, MRR@10 and NDCG@10 per set (bundled and the user's)", async () => {
    const s = await startFakeServer({ dialect: "tei", servedModel: "bge" });
    servers.push(s);
    const registry = new Registry();
    const userSet = parseUserSet(
      JSON.stringify({
        query: "Redis缓存的过期时间",
        candidates: [
          { id: "r", text: "Redis是内存键值数据库，常用作缓存，支持过期时间和持久化。" },
          { id: "t", text: "绿茶用八十度左右的水冲泡。" },
        ],
        relevant: ["r"],
      }),
    );
    const target = CanaryTargetSchema.parse({
      name: "bge",
      url: s.url,
      dialect: "tei",
      task: "embed",
      servedModel: "bge",
    });
    const result = await runTarget(target, config, registry, { userSet });
    expect(result).toEqual({ health: true, sanity: true, "quality.bundled": true, "quality.user": true });
    expect(registry.get("mrrAt10", { model: "bge", set: "user" })).toBe(1);
    expect(registry.get("mrrAt10", { model: "bge", set: "bundled" })).toBeGreaterThan(0.75);
    expect(registry.get("ndcgAt10", { model: "bge", set: "bundled" })).toBeGreaterThan(0.75);
    const text = registry.expose();
    expect(text).toMatch(/^# TYPE retrieval_stack_canary_check_success gauge$/m);
    expect(text).toMatch(/^retrieval_stack_canary_check_success\{check="quality\.user",model="bge"\} 1$/m);
    expect(text).toMatch(/^retrieval_stack_canary_last_run_timestamp_seconds\{model="bge"\} \d+/m);
  });

  it("an unhealthy model: health 0, no quality series (unknown, not low)", async () => {
    const s = await startFakeServer({ dialect: "vllm", servedModel: "down", fault: "unhealthy" });
    servers.push(s);
    const registry = new Registry();
    registry.set("mrrAt10", { model: "down", set: "bundled" }, 0.9);
    const target = CanaryTargetSchema.parse({
      name: "down",
      url: s.url,
      dialect: "vllm",
      task: "rerank",
      servedModel: "down",
    });
    expect(await runTarget(target, config, registry)).toEqual({ health: false });
    expect(registry.get("checkSuccess", { model: "down", check: "health" })).toBe(0);
    expect(registry.get("mrrAt10", { model: "down", set: "bundled" })).toBeUndefined();
  });

  it("a scale-to-zero model: not one call outside its active hours (skipped, still a run); checked inside them", async () => {
    const s = await startFakeServer({ dialect: "vllm", servedModel: "nightly" });
    servers.push(s);
    const registry = new Registry();
    const target = CanaryTargetSchema.parse({
      name: "nightly",
      url: s.url,
      dialect: "vllm",
      task: "rerank",
      servedModel: "nightly",
      scaleToZero: true,
      activeHours: SHANGHAI_WORKDAYS,
    });
    const saturday = () => new Date("2026-12-05T02:00:00Z");
    expect(await runTarget(target, config, registry, { now: saturday })).toEqual({});
    expect(s.log).toEqual([]);
    expect(registry.get("skipped", { model: "nightly" })).toBe(1);
    expect(registry.get("lastRun", { model: "nightly" })).toBe(saturday().getTime() / 1000);
    const tuesday = () => new Date("2026-12-01T01:30:00Z");
    expect((await runTarget(target, config, registry, { now: tuesday })).health).toBe(true);
    expect(s.log.length).toBeGreaterThan(0);
    expect(registry.get("skipped", { model: "nightly" })).toBe(0);
  });
});

describe("canary.js, bundled as the image runs it", () => {
  it("holds no @pulumi code, requires only Node builtins, and serves the gauges of a real run on /metrics", async () => {
    const out = path.join(dir, "bundle");
    const result = await build({ ...canaryBuildOptions(out), logLevel: "silent" });
    expect(Object.keys(result.metafile.inputs).filter((i) => i.includes("@pulumi"))).toEqual([]);
    const [output] = Object.values(result.metafile.outputs).filter((o) => o.entryPoint);
    expect(
      output!.imports.filter((i) => !i.external && !i.path.startsWith("node:") && !/^[a-z_]+$/.test(i.path)),
    ).toEqual([]);

    const s = await startFakeServer({ dialect: "vllm", servedModel: "rr" });
    servers.push(s);
    const port = await freePort();
    const file = path.join(dir, "canary.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        intervalSeconds: 60,
        host: "127.0.0.1",
        port,
        targets: [{ name: "rr", url: s.url, dialect: "vllm", task: "rerank", servedModel: "rr" }],
      }),
    );
    const child = spawn(process.execPath, [path.join(out, "canary.js")], {
      env: { PATH: process.env.PATH, CANARY_CONFIG_FILE: file },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let metrics = "";
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !/retrieval_stack_canary_mrr_at_10\{model="rr",set="bundled"\}/.test(metrics)) {
        metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => r.text(),
          () => "",
        );
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(metrics).toMatch(/^retrieval_stack_canary_check_success\{check="sanity",model="rr"\} 1$/m);
      expect(metrics).toMatch(/^retrieval_stack_canary_latency_seconds\{check="health",model="rr"\} [0-9.e-]+$/m);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  }, 60_000);

  it("exits 2 naming the file when the config cannot be read", async () => {
    const out = path.join(dir, "bundle");
    const child = spawn(process.execPath, [path.join(out, "canary.js")], {
      env: { PATH: process.env.PATH, CANARY_CONFIG_FILE: path.join(dir, "missing.json") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    const code = await new Promise((r) => child.once("exit", r));
    expect(code).toBe(2);
    expect(text).toMatch(/canary config .*missing\.json unreadable/);
  });
});

describe("QualityCanary component", () => {
  const model = (m: Record<string, unknown>) =>
    ModelConfigSchema.parse({
      model: "BAAI/bge-large-zh-v1.5",
      engine: "vllm",
      task: "embed",
      slo: { p99LatencyMs: 300 },
      ...m,
    });
  const always = model({ name: "bge", replicas: { min: 1, max: 2 } });
  const nightly = model({
    name: "nightly",
    replicas: { min: 0, max: 1 },
    autoscaling: { activeHours: SHANGHAI_WORKDAYS },
  });
  const render = (gateway?: boolean) =>
    renderResources(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
      new QualityCanary("quality-canary", {
        provider,
        canary: CanarySchema.parse({}),
        image: "registry.example.com/retrieval-verifier@sha256:abc",
        targets: [
          { model: always, url: "http://bge.retrieval.svc:8000" },
          { model: nightly, url: "http://nightly.retrieval.svc:8000" },
        ],
        ...(gateway ? { gateway: { url: "http://gateway.gateway.svc:8080" } } : {}),
      });
    });

  it("runs canary.js of the verifier image as an engine client that never counts as a scale-to-zero model's demand", async () => {
    const r = await render();
    const d = r.objects("Deployment")[0]!;
    const pod = d.spec.template;
    expect(pod.metadata.labels[ENGINE_CLIENT_LABEL]).toBe("true");
    expect(pod.metadata.labels).not.toHaveProperty(VERIFIER_POD_LABEL);
    expect(pod.spec.containers[0].command).toEqual(["node", "--enable-source-maps", "/app/canary.js"]);
    expect(d.spec.replicas).toBe(1);
    const cm = r.objects("ConfigMap")[0]!;
    const config = CanaryConfigSchema.parse(JSON.parse(cm.data["canary.json"]));
    expect(config.intervalSeconds).toBe(300);
    expect(config.targets.map((t) => [t.name, t.url, t.scaleToZero, t.activeHours?.timezone])).toEqual([
      ["bge", "http://bge.retrieval.svc:8000", false, undefined],
      ["nightly", "http://nightly.retrieval.svc:8000", true, "Asia/Shanghai"],
    ]);
  });

  it("through the gateway when given: its base URL and API, each model by its public name, series still by model", async () => {
    const r = await render(true);
    const config = CanaryConfigSchema.parse(JSON.parse(r.objects("ConfigMap")[0]!.data["canary.json"]));
    expect(config.targets.map((t) => [t.name, t.kind, t.url, t.dialect, t.servedModel, t.route])).toEqual([
      ["bge", "gateway", "http://gateway.gateway.svc:8080", "openai", "bge", undefined],
      ["nightly", "gateway", "http://gateway.gateway.svc:8080", "openai", "nightly", undefined],
    ]);
    // A scale-to-zero model is still skipped outside its hours: the gateway would wake it as any caller does.
    expect(config.targets[1]!.scaleToZero).toBe(true);
    const np = r.objects("NetworkPolicy")[0]!;
    // Out to the gateway's namespace only: through the gateway the canary never calls an engine itself.
    expect(np.spec.egress[1]).toEqual({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateway" } } }],
    });
  });

  it("is scraped by a ServiceMonitor selecting its Service, and only Prometheus' pods may reach the metrics port", async () => {
    const r = await render();
    const svc = r.objects("Service")[0]!;
    const sm = r.objects("ServiceMonitor")[0]!;
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.endpoints[0].port).toBe(svc.spec.ports[0].name);
    const np = r.objects("NetworkPolicy")[0]!;
    expect(np.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 9464 }],
      },
    ]);
    expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
  });
});
