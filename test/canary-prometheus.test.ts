/**
 * The quality canary end to end, with a real Prometheus (Debian `prometheus`) on 127.0.0.1: the canary runs against
 * two fake vLLM rerankers (test/fixtures/engine-server.ts), one good and one degraded (scores unrelated to the
 * text), Prometheus scrapes the canary's /metrics and evaluates the very rules the component renders, with short
 * intervals and `for` durations: ModelQualityLow fires for the degraded reranker and stays quiet for the good one.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { CanarySchema, ModelConfigSchema } from "../components/config";
import { canaryDrafts, finalizeGroup } from "../components/observability/alert-rules";
import { CanaryConfigSchema } from "../components/contracts/canary";
import { startCanary, type Canary } from "../images/canary/src/main";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { apt, findTool, missingToolTest } from "./fixtures/tools";
import { freePort } from "./free-port";
import { startPrometheus, type PrometheusProcess } from "./fixtures/prometheus";

const prometheus = findTool("prometheus", apt("prometheus"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "canary-prometheus-"));
let prom: PrometheusProcess | undefined;
let canary: Canary | undefined;
const servers: FakeServer[] = [];
afterAll(async () => {
  prom?.stop();
  await canary?.stop();
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const reranker = (name: string) =>
  ModelConfigSchema.parse({
    name,
    model: "BAAI/bge-reranker-v2-m3",
    engine: "vllm",
    task: "rerank",
    replicas: { min: 1, max: 1 },
    slo: { p99LatencyMs: 1000 },
  });

type Alert = { labels: Record<string, string>; state: string };

describe("ModelQualityLow on what a real Prometheus scraped from the canary", () => {
  if (!prometheus.path) {
    missingToolTest(prometheus);
    return;
  }

  it("fires for the degraded reranker, stays quiet for the good one", async () => {
    const good = await startFakeServer({ dialect: "vllm", servedModel: "good-rr" });
    const bad = await startFakeServer({ dialect: "vllm", servedModel: "bad-rr", fault: "random-scores" });
    servers.push(good, bad);
    const target = (name: string, url: string) => ({
      name,
      url,
      dialect: "vllm",
      task: "rerank" as const,
      servedModel: name,
    });
    const canaryPort = await freePort();
    canary = await startCanary(
      CanaryConfigSchema.parse({
        intervalSeconds: 2,
        jitterSeconds: 0,
        requestTimeoutSeconds: 5,
        host: "127.0.0.1",
        port: canaryPort,
        targets: [target("good-rr", good.url), target("bad-rr", bad.url)],
      }),
      {},
      () => {},
    );

    // The rules the component renders, with the test's short `for` and interval.
    // (Config refuses intervals under 10 s; the test overrides the parsed value to keep the run short.)
    const config = { ...CanarySchema.parse({ qualityLowFor: "3s", checkFailingFor: "3s" }), intervalSeconds: 2 };
    const groups = ["good-rr", "bad-rr"].map((m) =>
      finalizeGroup(
        {
          name: `retrieval-stack.model.${m}`,
          scope: { model: m, namespace: "retrieval", engine: "vllm" },
          drafts: canaryDrafts(reranker(m), config),
        },
        "https://runbooks.example.invalid/runbooks.md",
      ),
    );
    prom = await startPrometheus(
      prometheus.path!,
      dir,
      {
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: ["rules.yaml"],
        scrape_configs: [
          {
            job_name: "quality-canary",
            scrape_timeout: "1s",
            static_configs: [
              { targets: [`127.0.0.1:${canary.port}`], labels: { namespace: "monitoring", pod: "quality-canary-0" } },
            ],
          },
        ],
      },
      { "rules.yaml": YAML.stringify({ groups }, { lineWidth: 0 }) },
    );
    const api = prom.api;
    const firing = async () =>
      ((await api<{ alerts: Alert[] }>("/api/v1/alerts"))?.alerts ?? []).filter(
        (a) => a.labels.alertname === "ModelQualityLow" && a.state === "firing",
      );

    let alerts: Alert[] = [];
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      alerts = await firing();
      if (alerts.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(alerts.map((a) => [a.labels.model, a.labels.set, a.labels.severity, a.labels.namespace])).toEqual([
      ["bad-rr", "bundled", "warning", "retrieval"],
    ]);

    // What Prometheus stored: the good reranker well above 0.75, the degraded one below; both checked recently.
    const mrr = await prom.query("retrieval_stack_canary_mrr_at_10");
    const byModel = Object.fromEntries(mrr.map((s) => [s.metric.model, Number(s.value[1])]));
    expect(byModel["good-rr"]).toBeGreaterThan(0.75);
    expect(byModel["bad-rr"]).toBeLessThan(0.75);
    const ok = await prom.query('retrieval_stack_canary_check_success{check="sanity"}');
    expect(Object.fromEntries(ok.map((s) => [s.metric.model, s.value[1]]))["good-rr"]).toBe("1");
    // A few more evaluations: the good one is still quiet, no canary alert is stale.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await firing()).map((a) => a.labels.model)).toEqual(["bad-rr"]);
    const stale = ((await api<{ alerts: Alert[] }>("/api/v1/alerts"))?.alerts ?? []).filter(
      (a) => a.labels.alertname === "CanaryStale",
    );
    expect(stale).toEqual([]);
  }, 90_000);
});
