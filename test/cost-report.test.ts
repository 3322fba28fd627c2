/**
 * `npm run report` against a real Prometheus (Debian's) holding a known November 2026: the hourly sums the cost
 * recording rules keep (`<series>:1h`, recorded every minute, each covering the hour before it; the rules
 * themselves are proven in cost-rules-promtool.test.ts) are written through Prometheus' remote-write receiver
 * (with an out-of-order window that takes month-old samples), and the report's totals are checked against the hand
 * computation below. October and December carry large amounts that must stay out. (`promtool tsdb
 * create-blocks-from openmetrics` writes one block per 2 hours: 362 blocks and minutes of disk I/O for a month.)
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COST_SERIES as S } from "../components/observability/cost/names";
import { apt, findTool, missingToolTest } from "./fixtures/tools";
import { startPrometheus, type PrometheusProcess } from "./fixtures/prometheus";
import { remoteWrite, type WrittenSeries } from "./fixtures/remote-write";

const prometheus = findTool("prometheus", apt("prometheus"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-report-"));
const procs: PrometheusProcess[] = [];
afterAll(() => {
  for (const p of procs) p.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ROOT = path.resolve(__dirname, "..");
const at = (iso: string) => Date.parse(iso);
const NOV = at("2026-11-01T00:00:00Z");
const DEC = at("2026-12-01T00:00:00Z");
const inRange = (t: number, from: string, to: string) => t >= at(from) && t < at(to);
const inNov = (t: number) => t >= NOV && t < DEC;

/**
 * The hourly sums as recorded at time t: USD (or work) of the hour containing t, which the sample at hh:58
 * reports for the hour [hh:00, hh+1:00). Outside November: large amounts, which must not count.
 */
const SERIES: { name: string; labels: string; value: (t: number) => number }[] = [
  { name: S.keyCostHourly, labels: 'key="team-a",model="emb"', value: (t) => (inNov(t) ? 0.5 : 100) },
  {
    name: S.keyCostHourly,
    labels: 'key="team-b",model="emb"',
    value: (t) => (inRange(t, "2026-11-10T00:00:00Z", "2026-11-20T00:00:00Z") ? 0.25 : 0),
  },
  {
    name: S.keyCostHourly,
    labels: 'key="team-a",model="rr"',
    value: (t) => (inRange(t, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z") ? 1 : 0),
  },
  { name: S.keyWorkHourly, labels: 'key="team-a",model="emb"', value: () => 36_000 },
  {
    name: S.keyWorkHourly,
    labels: 'key="team-b",model="emb"',
    value: (t) => (inRange(t, "2026-11-10T00:00:00Z", "2026-11-20T00:00:00Z") ? 108_000 : 0),
  },
  {
    name: S.keyWorkHourly,
    labels: 'key="team-a",model="rr"',
    value: (t) => (inRange(t, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z") ? 7200 : 0),
  },
  { name: S.modelCostHourly, labels: 'model="emb"', value: (t) => (inNov(t) ? 1 : 200) },
  { name: S.modelCostHourly, labels: 'model="rr"', value: () => 1 },
  {
    name: S.idleCostHourly,
    labels: 'model="emb"',
    value: (t) => (!inNov(t) ? 100 : inRange(t, "2026-11-10T00:00:00Z", "2026-11-20T00:00:00Z") ? 0.25 : 0.5),
  },
  {
    name: S.idleCostHourly,
    labels: 'model="rr"',
    value: (t) => (inRange(t, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z") ? 0 : 1),
  },
  { name: S.unallocatedHourly, labels: 'node_group="l4"', value: () => 0.2 },
  { name: S.fixedCostHourly, labels: 'component="control-plane"', value: () => 0.1 },
  { name: S.fixedCostHourly, labels: 'component="system-nodes"', value: () => 0.096 },
  { name: S.modelInfo, labels: 'model="emb",task="embed",work="tokens"', value: () => 1 },
  { name: S.modelInfo, labels: 'model="rr",task="rerank",work="tokens"', value: () => 1 },
];

/**
 * The hand computation (November 2026 = 30 days = 720 hours):
 *   team-a/emb 0.5 x 720 = 360; team-b/emb 0.25 x 240 h (10th-20th) = 60; team-a/rr 1 x 48 h (1st-3rd) = 48
 *   emb: cost 1 x 720 = 720, idle 0.5 x 480 + 0.25 x 240 = 300 (= 720 - 360 - 60)
 *   rr: cost 720, idle 1 x 672 = 672 (= 720 - 48)
 *   unallocated l4 0.2 x 720 = 144; fixed 0.1 x 720 + 0.096 x 720 = 72 + 69.12
 *   total = 468 + 972 + 144 + 141.12 = 1725.12
 *   work: team-a/emb 10/s x 3600 x 720 = 25,920,000; team-b/emb 30/s x 3600 x 240 = 25,920,000; team-a/rr 2 x 3600 x 48
 */
const EXPECTED_KEYS = [
  { key: "team-a", model: "emb", usd: 360, work: 25_920_000 },
  { key: "team-a", model: "rr", usd: 48, work: 345_600 },
  { key: "team-b", model: "emb", usd: 60, work: 25_920_000 },
];

/** Samples every 4 minutes from hh:02 to hh:58 (the report reads the one before each full hour), Oct 31 20:00 to Dec 1 04:00. */
function written(): WrittenSeries[] {
  const from = at("2026-10-31T20:02:00Z");
  const to = at("2026-12-01T04:00:00Z");
  return SERIES.map((s) => {
    const labels: Record<string, string> = { __name__: s.name };
    for (const m of s.labels.matchAll(/(\w+)="([^"]*)"/g)) labels[m[1]!] = m[2]!;
    const samples: { t: number; v: number }[] = [];
    for (let t = from; t < to; t += 4 * 60_000) samples.push({ t, v: s.value(t) });
    return { labels, samples };
  });
}

async function ready(p: PrometheusProcess, probe: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    // 503 "Service Unavailable" (not JSON) while the TSDB loads its blocks.
    if ((await p.query(probe).catch(() => [])).length) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Prometheus at ${p.base} never answered ${probe}`);
}

let prom: PrometheusProcess | undefined;

describe("npm run report against a real Prometheus holding November 2026", () => {
  if (!prometheus.path) {
    missingToolTest(prometheus);
    return;
  }

  beforeAll(async () => {
    prom = await startPrometheus(
      prometheus.path!,
      dir,
      { global: {}, storage: { tsdb: { out_of_order_time_window: "60d" } } },
      {},
      ["--web.enable-remote-write-receiver", "--storage.tsdb.retention.time=3650d"],
    );
    procs.push(prom);
    await ready(prom, "vector(1)");
    for (const s of written()) await remoteWrite(prom.base, [s]);
    await ready(prom, `${S.keyCostHourly} @ ${DEC / 1000}`);
  }, 240_000);

  const stackFile = () => {
    const file = path.join(dir, "Pulumi.chargeback.yaml");
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.local.yaml"), "utf8")) as {
      config: Record<string, unknown>;
    };
    const gateway = (doc.config["retrieval-stack:gateway"] ?? {}) as Record<string, unknown>;
    doc.config["retrieval-stack:gateway"] = {
      ...gateway,
      keys: { "team-a": { sha256: ["a".repeat(64)] }, "team-b": { sha256: ["b".repeat(64)] } },
    };
    doc.config["retrieval-stack:cost"] = { budgets: { "team-a": 500, "team-b": 50 } };
    fs.writeFileSync(file, YAML.stringify(doc));
    return file;
  };

  it("writes the CSV and Markdown whose totals match the hand computation", () => {
    const out = path.join(dir, "out");
    const r = spawnSync(
      "npx",
      [
        "tsx",
        "scripts/report.ts",
        "--config-file",
        stackFile(),
        "--month",
        "2026-11",
        "--prometheus",
        prom!.base,
        "--out",
        out,
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
    );
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const csv = fs
      .readFileSync(path.join(out, "cost-2026-11.csv"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(","));
    expect(csv[0]).toEqual(["month", "category", "name", "model", "work_unit", "work", "usd"]);
    const rows = csv.slice(1).map(([month, category, name, model, unit, work, usd]) => ({
      month,
      category,
      name,
      model,
      unit,
      work: Number(work),
      usd: Number(usd),
    }));
    expect(rows.every((x) => x.month === "2026-11")).toBe(true);
    const keys = rows.filter((x) => x.category === "key");
    expect(keys.map((k) => [k.name, k.model, k.unit])).toEqual(EXPECTED_KEYS.map((k) => [k.key, k.model, "tokens"]));
    EXPECTED_KEYS.forEach((e, i) => {
      expect(keys[i]!.usd).toBeCloseTo(e.usd, 6);
      expect(keys[i]!.work).toBe(e.work);
    });
    const usd = (category: string, name: string, model = "") =>
      rows.find((x) => x.category === category && x.name === name && x.model === model)?.usd;
    expect(usd("idle", "", "emb")).toBeCloseTo(300, 6);
    expect(usd("idle", "", "rr")).toBeCloseTo(672, 6);
    expect(usd("unallocated", "l4")).toBeCloseTo(144, 6);
    expect(usd("fixed", "control-plane")).toBeCloseTo(72, 6);
    expect(usd("fixed", "system-nodes")).toBeCloseTo(69.12, 6);
    const total = rows.reduce((a, x) => a + x.usd, 0);
    expect(total).toBeCloseTo(1725.12, 6);

    const md = fs.readFileSync(path.join(out, "cost-2026-11.md"), "utf8");
    expect(md).toContain("# GPU cost by key: chargeback, November 2026 (UTC)");
    expect(md).toContain("The whole month: 720 hours");
    // team-a: 408 of 500 = 82 %; team-b: 60 of 50 = 120 %.
    expect(md).toMatch(
      /\| team-a \| \$408\.00 \| \$500\.00 \| 82 % \| emb \$360\.00 \(25\.9 M tokens\), rr \$48\.00 \(345\.6 k tokens\) \|/,
    );
    expect(md).toMatch(/\| team-b \| \$60\.00 \| \$50\.00 \| 120 % \|/);
    expect(md).toMatch(/\| emb \| \$720\.00 \| \$420\.00 \| \$300\.00 \| 42 % \|/);
    expect(md).toContain(
      "**Total $1,725.12** = keys $468.00 + idle $972.00 + unallocated GPU nodes $144.00 + fixed $141.12.",
    );
    expect(md).not.toContain("Warning");
  }, 180_000);

  it("a CLI mistake prints the usage and exits 2", () => {
    for (const args of [
      ["--month", "2026-13", "--stack", "local"],
      ["--stack", "local"],
      ["--month", "2026-11"],
      ["--stack", "local", "--month", "2026-11", "--bogus"],
    ]) {
      const r = spawnSync("npx", ["tsx", "scripts/report.ts", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/usage: npm run report -- --stack <name> --month <YYYY-MM>/);
    }
  }, 120_000);

  it("Prometheus unreachable: exit 1 naming the URL", () => {
    const r = spawnSync(
      "npx",
      [
        "tsx",
        "scripts/report.ts",
        "--stack",
        "local",
        "--month",
        "2026-11",
        "--prometheus",
        "http://127.0.0.1:1",
        "--out",
        path.join(dir, "nowhere"),
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("cannot reach Prometheus at http://127.0.0.1:1");
  }, 60_000);
});
