import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { ALERT_NAMES } from "../components/observability/alert-catalogue";
import { CASES, type TestCase } from "./fixtures/promtool/cases";
import { TEST_METRICS, testRuleGroups } from "./fixtures/promtool/fixtures";
import { knownMetricNames, metricNamesIn } from "../components/observability/metric-catalogue";
import { MODEL_ALERT_CASES, modelAlertRuleGroups } from "./fixtures/promtool/model-alert-cases";
import { promtoolTestRules, run } from "./fixtures/promtool/tool";
import { apt, findTool, missingToolTest, needTool } from "./fixtures/tools";

const promtool = findTool("promtool", apt("prometheus"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alerts-promtool-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const rulesFile = path.join(dir, "rules.yaml");
fs.writeFileSync(rulesFile, YAML.stringify({ groups: testRuleGroups() }, { lineWidth: 0 }));

const promtoolTest = (c: TestCase) => promtoolTestRules(promtool, rulesFile, c, CASES.indexOf(c));

// The model alerts and the gateway's, over a CPU-served model and a GPU model (test/fixtures/promtool/model-alert-cases.ts).
const modelRulesDir = fs.mkdtempSync(path.join(dir, "model-alerts-"));
const modelRulesFile = path.join(modelRulesDir, "rules.yaml");
fs.writeFileSync(modelRulesFile, YAML.stringify({ groups: modelAlertRuleGroups() }, { lineWidth: 0 }));
/** Every case with the rule file it runs against. */
const ALL_CASES: { c: TestCase; file: string }[] = [
  ...CASES.map((c) => ({ c, file: rulesFile })),
  ...MODEL_ALERT_CASES.map((c) => ({ c, file: modelRulesFile })),
];

describe("alert rules under promtool", () => {
  if (!promtool.path) {
    missingToolTest(promtool);
    return;
  }
  it("promtool check rules accepts the rule file", () => {
    const r = run(promtool, ["check", "rules", rulesFile]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status, r.output).toBe(0);
  });
  it("promtool check rules accepts the model and gateway rule file", () => {
    const r = run(promtool, ["check", "rules", modelRulesFile]);
    expect(r.status, r.output).toBe(0);
  });
  ALL_CASES.forEach(({ c, file }, i) =>
    it(c.name, () => {
      const r = promtoolTestRules(promtool, file, c, i);
      expect(r.status, r.output).toBe(0);
    }),
  );

  it("a wrong expectation fails (the harness can fail)", () => {
    const c = CASES.find((x) => x.name.startsWith("GpuXidErrors"))!;
    const wrong: TestCase = {
      ...c,
      alert_rule_test: c.alert_rule_test.map((t) => ({
        ...t,
        exp_alerts: t.exp_alerts.length ? [] : [{ exp_labels: { alertname: t.alertname }, exp_annotations: {} }],
      })),
    };
    const r = promtoolTest(wrong);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/FAILED/);
  });
});

describe("runbook_url survives Prometheus' template expansion", () => {
  it("a base URL with Go template braces comes out of promtool exactly as written", (ctx) => {
    needTool(ctx, promtool);
    const base = "https://wiki.example.invalid/{{team}}/runbooks.md";
    const sub = fs.mkdtempSync(path.join(dir, "escape-"));
    const file = path.join(sub, "rules.yaml");
    fs.writeFileSync(file, YAML.stringify({ groups: testRuleGroups(base) }, { lineWidth: 0 }));
    const xid = CASES.find((x) => x.name.startsWith("GpuXidErrors"))!;
    const c: TestCase = {
      ...xid,
      alert_rule_test: xid.alert_rule_test.map((t) => ({
        ...t,
        exp_alerts: t.exp_alerts.map((a) => ({
          ...a,
          exp_annotations: { ...a.exp_annotations, runbook_url: `${base}#gpuxiderrors` },
        })),
      })),
    };
    const r = promtoolTestRules(promtool, file, c, "escape");
    expect(r.status, r.output).toBe(0);
  });
});

describe("GPU alerts name the node from `node` only", () => {
  it("no annotation or expression reads dcgm-exporter's host label (`Hostname`, `hostname` since 4.8)", () => {
    const gpu = testRuleGroups().find((g) => g.name === "retrieval-stack.gpu")!;
    for (const r of gpu.rules) {
      expect(JSON.stringify(r), r.alert).not.toMatch(/hostname/i);
      if (r.alert !== "GpuNodeGroupNoCapacity") expect(r.annotations.summary, r.alert).toContain("{{ $labels.node }}");
    }
  });
  it("every DCGM series in the promtool cases carries `node`", () => {
    const dcgm = CASES.flatMap((c) => c.input_series).filter((s) => s.series.startsWith("DCGM_"));
    expect(dcgm.length).toBeGreaterThan(0);
    for (const s of dcgm) expect(s.series, s.series).toMatch(/[{,]node="[^"]+"/);
  });
});

describe("alert unit-test coverage", () => {
  it("every alert has a case where it fires and one where it must not (or has no data)", () => {
    for (const alert of ALERT_NAMES) {
      const cases = ALL_CASES.map((x) => x.c);
      const tests = cases.flatMap((c) => c.alert_rule_test).filter((t) => t.alertname === alert);
      expect(
        tests.some((t) => t.exp_alerts.length > 0),
        `${alert} never fires in a test`,
      ).toBe(true);
      expect(
        tests.some((t) => t.exp_alerts.length === 0) ||
          cases.some((c) => c.name.startsWith(alert) && /no data|not|silent/.test(c.name)),
        `${alert} has no must-not-fire case`,
      ).toBe(true);
    }
  });
});

describe("model and gateway rules: what is rendered where", () => {
  const rules = modelAlertRuleGroups().flatMap((g) => g.rules);
  it("read only catalogued metric names (cAdvisor, kube-state-metrics, the gateway's, the engine's)", () => {
    const allowed = new Set([...knownMetricNames(), ...TEST_METRICS.metricNames]);
    for (const r of rules) for (const n of metricNamesIn(r.expr)) expect(allowed.has(n), `${r.alert}: ${n}`).toBe(true);
  });
  it("CPU saturation is watched for the CPU-served model only; the gateway group exists only when enabled", () => {
    expect(rules.filter((r) => r.alert === "ModelServiceCpuSaturated").map((r) => r.labels.model)).toEqual(["cpu1"]);
    expect(testRuleGroups().map((g) => g.name)).not.toContain("retrieval-stack.gateway");
    expect(modelAlertRuleGroups().map((g) => g.name)).toContain("retrieval-stack.gateway");
    // Low traffic is off by default.
    expect(testRuleGroups().flatMap((g) => g.rules.map((r) => r.alert))).not.toContain("ModelServiceLowTraffic");
  });
});
