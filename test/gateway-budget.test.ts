/**
 * The gateway's budget check (images/gateway/src/budget.ts) against a real Prometheus holding the ratio the cost
 * rules record (written through its remote-write receiver), and from a mounted file: which keys are refused, the
 * 429 they get, and that a Prometheus that stops answering changes nothing.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUDGET_USED_SERIES, SpentBudgets } from "../images/gateway/src/budget";
import { COST_SERIES } from "../components/observability/cost/names";
import { apt, findTool, needTool } from "./fixtures/tools";
import { startPrometheus, type PrometheusProcess } from "./fixtures/prometheus";
import { remoteWrite } from "./fixtures/remote-write";

const prometheus = findTool("prometheus", apt("prometheus"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-budget-"));
let prom: PrometheusProcess | undefined;
afterAll(() => {
  prom?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the gateway learns which keys spent their budget", () => {
  it("reads the series the cost rules record", () => expect(BUDGET_USED_SERIES).toBe(COST_SERIES.keyBudgetUsed));

  it("from Prometheus: a key at or over 100 % is refused with a 429 until the month ends; others pass", async (ctx) => {
    needTool(ctx, prometheus);
    prom = await startPrometheus(prometheus.path, dir, { global: {} }, {}, ["--web.enable-remote-write-receiver"]);
    for (let i = 0; i < 120 && !(await prom.query("vector(1)").catch(() => [])).length; i++)
      await new Promise((r) => setTimeout(r, 250));
    const now = Date.now();
    const ratio = (key: string, v: number) => ({
      labels: { __name__: BUDGET_USED_SERIES, key },
      samples: [{ t: now, v }],
    });
    await remoteWrite(prom.base, [ratio("team-a", 1.02), ratio("team-b", 0.5), ratio("team-c", 1)]);

    const logs: string[] = [];
    const budgets = new SpentBudgets({ source: { prometheus: prom.base }, log: (l) => logs.push(l) });
    await budgets.refresh();
    expect(logs).toEqual([]);
    expect(["team-a", "team-b", "team-c", "other"].filter((k) => budgets.isSpent(k))).toEqual(["team-a", "team-c"]);

    const e = budgets.refusal("team-a", new Date("2026-11-30T23:59:00Z"))!;
    expect(e.status).toBe(429);
    expect(e.body().error).toMatchObject({ type: "rate_limit_error", code: "budget_exhausted" });
    expect(e.body().error.message).toMatch(/Key team-a has spent its monthly GPU budget/);
    expect(e.headers["retry-after"]).toBe("60");
    expect(budgets.refusal("team-b")).toBeUndefined();

    // Prometheus gone: the last known set stays, and the failure is logged.
    prom.stop();
    await new Promise((r) => setTimeout(r, 200));
    await budgets.refresh();
    expect(budgets.isSpent("team-a")).toBe(true);
    expect(logs.join("\n")).toMatch(/budgets not refreshed .*keeping the last known/);
  }, 60_000);

  it("from a mounted file, refreshed in the background; a malformed file keeps the last known set", async () => {
    const file = path.join(dir, "spent.json");
    fs.writeFileSync(file, JSON.stringify({ spent: ["team-x"] }));
    const logs: string[] = [];
    const budgets = new SpentBudgets({ source: { file }, refreshMs: 50, log: (l) => logs.push(l) });
    await budgets.start();
    expect(budgets.isSpent("team-x")).toBe(true);
    fs.writeFileSync(file, JSON.stringify({ spent: ["team-y"] }));
    await new Promise((r) => setTimeout(r, 200));
    expect([budgets.isSpent("team-x"), budgets.isSpent("team-y")]).toEqual([false, true]);
    fs.writeFileSync(file, JSON.stringify({ spent: "team-z" }));
    await new Promise((r) => setTimeout(r, 200));
    budgets.stop();
    expect(budgets.isSpent("team-y")).toBe(true);
    expect(logs.at(-1)).toMatch(/expected \{"spent": \["<key>", \.\.\.\]\}/);
  });
});
