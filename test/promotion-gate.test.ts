import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judgePromotion, promotionsBetween, type Promotion } from "../components/fingerprint/promotion";
import { instantQuery, readEvidence } from "../components/fingerprint/prometheus-reader";
import { VerificationSchema } from "../components/config/verification";
import { startPrometheus, type PrometheusProcess } from "./fixtures/prometheus";
import { apt, findTool, needTool } from "./fixtures/tools";

/**
 * The promotion gate against a real Prometheus. Three hours of shadow and canary series are written with
 * `promtool tsdb create-blocks-from openmetrics` (exact values at exact times), Prometheus serves them, and the
 * gate's own queries read them at the end of the data.
 */
const prometheus = findTool("prometheus", apt("prometheus"));
const promtool = findTool("promtool", apt("prometheus"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promotion-gate-"));
let prom: PrometheusProcess | undefined;

const END = Math.floor(Date.now() / 1000 / 60) * 60 - 10 * 60; // ten minutes ago, on a minute
const STEP = 60;
const POINTS = 180; // three hours
const at = new Date(END * 1000);
// The stack's default gate (verification.promotion), over the hour of written series.
const gate = { ...VerificationSchema.parse({}).promotion, window: "1h" };

/** Per shadow: compared calls a minute, and the agreement of each call. */
const SHADOWS = {
  "rr-good": { perMinute: 10, kendall_tau: 0.9, top3: 0.95, ndcg_at_10: 0.97 },
  "rr-few": { perMinute: 2, kendall_tau: 0.9, top3: 0.95, ndcg_at_10: 0.97 },
  "rr-bad": { perMinute: 10, kendall_tau: 0.2, top3: 0.4, ndcg_at_10: 0.6 },
};
const MRR: Record<string, number> = { "rr-current": 0.82, "rr-good": 0.83, "rr-few": 0.7, "rr-bad": 0.81 };

function openMetrics(): string {
  const lines: string[] = [];
  const sample = (name: string, labels: string, value: number, t: number) =>
    lines.push(`${name}{${labels}} ${value} ${t}`);
  lines.push("# TYPE retrieval_gateway_shadow_compared counter");
  for (const [shadow, s] of Object.entries(SHADOWS))
    for (let i = 0; i < POINTS; i++)
      sample(
        "retrieval_gateway_shadow_compared_total",
        `alias="reranker",shadow="${shadow}"`,
        i * s.perMinute,
        END - (POINTS - 1 - i) * STEP,
      );
  lines.push("# TYPE retrieval_gateway_shadow_agreement_sum gauge");
  for (const [shadow, s] of Object.entries(SHADOWS))
    for (const measure of ["kendall_tau", "top3", "ndcg_at_10"] as const)
      for (let i = 0; i < POINTS; i++)
        sample(
          "retrieval_gateway_shadow_agreement_sum",
          `alias="reranker",shadow="${shadow}",measure="${measure}"`,
          i * s.perMinute * s[measure],
          END - (POINTS - 1 - i) * STEP,
        );
  for (const metric of ["retrieval_stack_canary_mrr_at_10", "retrieval_stack_canary_ndcg_at_10"]) {
    lines.push(`# TYPE ${metric} gauge`);
    for (const [model, mrr] of Object.entries(MRR))
      for (let i = 0; i < POINTS; i += 5)
        sample(
          metric,
          `model="${model}",set="bundled"`,
          metric.includes("mrr") ? mrr : mrr + 0.05,
          END - (POINTS - 1 - i) * STEP,
        );
  }
  lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}

const promotion = (candidate: string): Promotion => ({
  alias: "reranker",
  task: "rerank",
  candidate,
  current: "rr-current",
  change: `${candidate}'s share 10 % -> 50 %`,
});

beforeAll(async () => {
  if (!prometheus.path || !promtool.path) return;
  fs.writeFileSync(path.join(dir, "series.om"), openMetrics());
  const r = spawnSync(
    promtool.path,
    ["tsdb", "create-blocks-from", "openmetrics", path.join(dir, "series.om"), path.join(dir, "data")],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(`promtool backfill failed: ${r.stdout}${r.stderr}`);
  prom = await startPrometheus(prometheus.path, dir, { global: { scrape_interval: "1m" }, scrape_configs: [] });
  // Ready when the backfilled blocks answer (bounded: 90 s; slow when 2 cores are shared by many suites).
  for (let i = 0; i < 360; i++) {
    if ((await prom.query(`count(retrieval_stack_canary_mrr_at_10 @ ${END})`)).length === 1) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("Prometheus did not serve the backfilled series within 90 s");
}, 120_000);

afterAll(() => {
  prom?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("promotion gate against a real Prometheus", () => {
  it("passes a candidate with enough agreeing shadow calls and canary quality at least the current model's", async (ctx) => {
    needTool(ctx, prometheus);
    needTool(ctx, promtool);
    if (!prom) throw new Error("Prometheus did not start (see beforeAll)");
    const e = await readEvidence(prom.base, promotion("rr-good"), gate, at);
    expect(e.shadowCalls).toBeGreaterThan(580);
    expect(e.shadowCalls).toBeLessThan(620);
    expect(e.kendallTau).toBeCloseTo(0.9, 3);
    expect(e.currentMrr).toBeCloseTo(0.82, 6);
    const v = judgePromotion(promotion("rr-good"), gate, e);
    expect(v.message).toBe(
      "alias reranker: rr-good's share 10 % -> 50 % (rr-good vs rr-current): evidence passes the promotion gate.",
    );
    expect(v.pass).toBe(true);
  });

  it("fails, naming the numbers, when shadow calls are too few and the canary MRR is below the current model's", async (ctx) => {
    needTool(ctx, prometheus);
    needTool(ctx, promtool);
    if (!prom) throw new Error("Prometheus did not start (see beforeAll)");
    const v = judgePromotion(promotion("rr-few"), gate, await readEvidence(prom.base, promotion("rr-few"), gate, at));
    expect(v.pass).toBe(false);
    expect(v.message).toMatch(/the evidence is missing or short: 1[12]\d shadow comparisons in 1h \(needs ≥ 500\)/);
    expect(v.message).toContain("canary MRR@10 of rr-few (rr-current: 0.820) 0.700 (needs ≥ 0.800)");
    expect(v.message).toContain("verification.promotion.override");
  });

  it("fails a disagreeing shadow on its agreement, and a candidate with no series as missing evidence", async (ctx) => {
    needTool(ctx, prometheus);
    needTool(ctx, promtool);
    if (!prom) throw new Error("Prometheus did not start (see beforeAll)");
    const bad = judgePromotion(promotion("rr-bad"), gate, await readEvidence(prom.base, promotion("rr-bad"), gate, at));
    expect(bad.pass).toBe(false);
    expect(bad.message).toContain("shadow mean Kendall tau 0.200 (needs ≥ 0.7)");
    expect(bad.message).toContain("shadow mean NDCG@10 0.600 (needs ≥ 0.9)");
    const none = judgePromotion(
      promotion("rr-none"),
      gate,
      await readEvidence(prom.base, promotion("rr-none"), gate, at),
    );
    expect(none.pass).toBe(false);
    expect(none.message).toContain("no shadow comparisons in 1h (needs ≥ 500)");
    expect(none.message).toContain("canary MRR@10 of rr-none (rr-current: 0.820) missing");
  });

  it("the emergency override passes but keeps the numbers in the message", async (ctx) => {
    needTool(ctx, prometheus);
    needTool(ctx, promtool);
    if (!prom) throw new Error("Prometheus did not start (see beforeAll)");
    const v = judgePromotion(
      promotion("rr-few"),
      gate,
      await readEvidence(prom.base, promotion("rr-few"), gate, at),
      "INC-4711 old reranker crashes",
    );
    expect(v.pass).toBe(true);
    expect(v.message).toMatch(
      /promotion gate OVERRIDDEN \("INC-4711 old reranker crashes"\) although 1[12]\d shadow comparisons/,
    );
  });

  it("a Prometheus that is down or refuses the query is an error, never a pass", async (ctx) => {
    needTool(ctx, prometheus);
    needTool(ctx, promtool);
    if (!prom) throw new Error("Prometheus did not start (see beforeAll)");
    await expect(instantQuery("http://127.0.0.1:1", "up", at, 2000)).rejects.toThrow(
      /Prometheus at http:\/\/127\.0\.0\.1:1 unreachable/,
    );
    await expect(instantQuery(prom.base, "sum(", at)).rejects.toThrow(/refused sum\(: HTTP 400/);
  });
});

describe("which changes are promotions", () => {
  const taskOf = (m: string): "embed" | "rerank" => (m.startsWith("emb") ? "embed" : "rerank");
  it("a raised rerank share and an embedding switch are; a lowered share, an unchanged alias and a new alias are not", () => {
    const before = {
      reranker: {
        targets: [
          { model: "rr-current", weight: 90 },
          { model: "rr-new", weight: 10 },
        ],
      },
      embedder: { targets: [{ model: "emb-v1", weight: 100 }] },
      same: { targets: [{ model: "rr-current", weight: 100 }] },
    };
    const after = {
      reranker: {
        targets: [
          { model: "rr-current", weight: 50 },
          { model: "rr-new", weight: 50 },
        ],
      },
      embedder: { targets: [{ model: "emb-v2", weight: 100 }] },
      same: { targets: [{ model: "rr-current", weight: 100 }] },
      fresh: { targets: [{ model: "rr-new", weight: 100 }] },
    };
    expect(promotionsBetween(before, after, taskOf)).toEqual([
      {
        alias: "reranker",
        task: "rerank",
        candidate: "rr-new",
        current: "rr-current",
        change: "rr-new's share 10 % -> 50 %",
      },
      {
        alias: "embedder",
        task: "embed",
        candidate: "emb-v2",
        current: "emb-v1",
        change: "switch from emb-v1 to emb-v2",
      },
    ]);
    expect(promotionsBetween(after, before, taskOf)).toEqual([
      {
        alias: "embedder",
        task: "embed",
        candidate: "emb-v1",
        current: "emb-v2",
        change: "switch from emb-v2 to emb-v1",
      },
    ]);
  });
});

describe("the gate as `pulumi up` runs it (local verification resource)", () => {
  const state = (weights: [number, number], extra: Record<string, unknown> = {}) => ({
    aliases: {
      reranker: {
        targets: [
          { model: "rr-current", weight: weights[0] },
          { model: "rr-few", weight: weights[1] },
        ],
      },
    },
    tasks: { "rr-current": "rerank" as const, "rr-few": "rerank" as const, "rr-good": "rerank" as const },
    gate,
    ...extra,
  });

  it("a weight change is a change of the resource (the gate runs even when no model changed)", async () => {
    const { localVerificationProvider } = await import("../components/verification/provider");
    const olds = { targets: [], options: {} as never, targetsHash: "h", promotion: state([90, 10]) };
    const news = { ...olds, promotion: state([50, 50]) };
    expect((await localVerificationProvider.diff!("id", olds, news)).changes).toBe(true);
    expect((await localVerificationProvider.diff!("id", olds, olds)).changes).toBe(false);
  });

  it("a raised share without evidence fails the deploy naming the numbers; lowering it is never gated", async (ctx) => {
    needTool(ctx, prometheus);
    needTool(ctx, promtool);
    if (!prom) throw new Error("Prometheus did not start (see beforeAll)");
    const { runPromotionGate } = await import("../images/verifier/src/run-local");
    const url = { prometheusUrl: prom.base };
    await expect(runPromotionGate(state([90, 10], url), state([50, 50], url), at)).rejects.toThrow(
      /promotion gate failed:\nalias reranker: rr-few's share 10 % -> 50 % \(rr-few vs rr-current\): the evidence is missing or short: 1[12]\d shadow comparisons/,
    );
    expect(await runPromotionGate(state([50, 50], url), state([90, 10], url), at)).toEqual([]);
    const overridden = await runPromotionGate(
      state([90, 10], url),
      state([50, 50], { ...url, override: "INC-1 v1 crashes" }),
      at,
    );
    expect(overridden[0]).toContain('promotion gate OVERRIDDEN ("INC-1 v1 crashes")');
    await expect(runPromotionGate(state([90, 10]), state([50, 50]), at)).rejects.toThrow(
      /needs evidence from Prometheus, and verification.promotion.prometheusUrl is not set/,
    );
  });
});
