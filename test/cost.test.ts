import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { costDashboard } from "../components/observability/cost/dashboard";
import { modelPrices } from "../components/observability/cost/model-price";
import { COST_SERIES } from "../components/observability/cost/names";
import { buildCostRuleGroups } from "../components/observability/cost/rules";
import { queriesOf } from "../components/observability/dashboards";
import { metricNamesIn } from "../components/observability/metric-catalogue";
import { costSummary } from "../plan/summary-cost";
import { parseStack, problemsOf, STACKS } from "./config-helpers";
import { CLUSTER, COST, GPU_NODE_GROUPS, INPUT, MODELS } from "./fixtures/cost";
import { run } from "./fixtures/promtool/tool";
import { apt, describeWithTool, findTool, needTool } from "./fixtures/tools";
import type { SummaryContext } from "../plan/summary";
import { GatewaySchema, type PlatformConfig } from "../components/config";

const stack = {
  models: MODELS,
  gpuNodeGroups: GPU_NODE_GROUPS,
  cluster: CLUSTER,
  cost: COST,
  gateway: GatewaySchema.parse({}),
};

describe("plan.md: cost per model from the stack", () => {
  it("prices a replica by its nvidia.com/gpu share of a node, spot where set, and a million tokens at target", () => {
    const byName = Object.fromEntries(modelPrices(stack).map((p) => [p.model, p]));
    // emb: 1 of the 4 time-sliced nvidia.com/gpu of a g6.xlarge ($0.8048/h) = $0.2012/h; 100 tokens/s at 60 %:
    // 0.2012 / (100 x 0.6 x 3600) x 1e6 = $0.9315 per million tokens.
    expect(byName.emb!.nodeShare).toBe(0.25);
    expect(byName.emb!.usdPerReplicaHour).toBeCloseTo(0.2012, 10);
    expect(byName.emb!.usdPerMillionAtTarget).toBeCloseTo(0.93148, 4);
    // rr: 2 slices = half a node; no throughput figure, so no price per million.
    expect(byName.rr!.usdPerReplicaHour).toBeCloseTo(0.4024, 10);
    expect(byName.rr!.usdPerMillionAtTarget).toBeUndefined();
    // big: a whole g5.xlarge on spot at the stack's $0.40.
    expect(byName.big).toMatchObject({ basis: "spot", usdPerReplicaHour: 0.4 });
  });

  it("renders the section with the hourly range and the price per million", () => {
    const md = costSummary({ config: stack as unknown as PlatformConfig } as SummaryContext)!;
    expect(md).toContain("## Cost per model");
    expect(md).toContain(
      "| emb | `l4` g6.xlarge | 25 % | $0.201/h | $0.20–$0.40/h | tokens | 100/s | $0.931 per M tokens at 60 % |",
    );
    expect(md).toContain(
      "| rr | `l4` g6.xlarge | 50 % | $0.402/h | $0.40–$0.80/h | tokens | – | – (set cost.models.rr.workPerSecondPerReplica) |",
    );
    expect(md).toContain("| big | `a10` g5.xlarge (spot) | 100 % | $0.400/h |");
    expect(md).toContain("Monthly budgets: `team-a` $25.00, `team-b` $1000.00; alerts at 80 % and 100 %.");
  });
});

describe("config: retrieval-stack:cost", () => {
  it("a stack without the section gets the defaults (enabled, no budgets, nothing refused)", () => {
    const c = parseStack("local");
    expect(c.cost).toMatchObject({ enabled: true, budgets: {}, refuseOverBudget: false });
  });
  it("a budget for a key the gateway does not know names the path and the keys there are", () => {
    const problems = problemsOf("local", (raw) => {
      raw.gateway = { ...(raw.gateway ?? {}), keys: { search: { sha256: ["a".repeat(64)] } } };
      raw.cost = { budgets: { serach: 100 } };
    });
    expect(problems.map((p) => p.path)).toEqual(["retrieval-stack:cost.budgets.serach"]);
    expect(problems[0]!.message).toMatch(/is not a key of gateway\.keys.*Fix: use one of search/);
  });
  it("a negative budget, a refusal without budgets and throughput for an unknown model are refused", () => {
    const problems = problemsOf("local", (raw) => {
      raw.cost = { budgets: { x: -5 } };
    });
    expect(problems[0]!.path).toBe("retrieval-stack:cost.budgets.x");
    expect(problems[0]!.message).toMatch(/not a positive monthly budget in USD/);
    const more = problemsOf("local", (raw) => {
      raw.cost = { refuseOverBudget: true, models: { nope: { workPerSecondPerReplica: 10 } } };
    });
    expect(more.map((p) => p.path)).toEqual([
      "retrieval-stack:cost.refuseOverBudget",
      "retrieval-stack:cost.models.nope",
    ]);
  });
});

const promtool = findTool("promtool", apt("prometheus"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-dashboard-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('dashboard "Usage and cost by key"', () => {
  const d = costDashboard();
  const queries = queriesOf(d);
  it("has the panels the issue asks for", () => {
    const titles = (d.panels ?? []).map((p) => p.title);
    for (const t of [
      "Dollars per key per day",
      "Month to date per key",
      "Top 10 keys, month to date",
      "Model cost",
      "Idle cost (no key used it)",
      "$ per million work units at current utilisation",
      "Fixed part",
    ])
      expect(titles).toContain(t);
    expect(d.title).toBe("Usage and cost by key");
  });
  it("reads only series the cost rules record", () => {
    const recorded = new Set(
      buildCostRuleGroups(INPUT)
        .flatMap((g) => g.rules)
        .flatMap((r) => ("record" in r ? [r.record] : [])),
    );
    const known = new Set(Object.values(COST_SERIES));
    for (const q of queries)
      for (const name of metricNamesIn(q)) {
        expect(known.has(name as never), `${name} in ${q}`).toBe(true);
        expect(recorded.has(name), `${name} is recorded`).toBe(true);
      }
  });
  it("every query parses (promtool check rules on them as recording rules)", (ctx) => {
    needTool(ctx, promtool);
    const file = path.join(dir, "dashboard-queries.yaml");
    const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.replace(/\$key/g, ".*") }));
    fs.writeFileSync(file, YAML.stringify({ groups: [{ name: "dashboard", rules }] }));
    const r = run(promtool, ["check", "rules", file]);
    expect(r.status, r.output).toBe(0);
  });
});

describeWithTool(promtool, "every shipped stack's cost rules", () => {
  it.each(STACKS)("%s: promtool check rules accepts them", (name) => {
    const c = parseStack(name);
    const file = path.join(dir, `cost-${name}.yaml`);
    const groups = buildCostRuleGroups({
      ...c,
      modelsNamespace: "models",
      runbookBaseUrl: c.observability.runbookBaseUrl,
    });
    fs.writeFileSync(file, YAML.stringify({ groups }, { lineWidth: 0 }));
    const r = run(promtool, ["check", "rules", file]);
    expect(r.status, r.output).toBe(0);
  });
});
