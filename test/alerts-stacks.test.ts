import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { ENGINE_ADAPTERS } from "../components/serving/engines";
import { ModelConfigSchema, type EngineName } from "../components/config";
import { buildRuleGroups } from "../components/observability/alert-rules";
import { ALERT_NAMES, runbookUrl, type AlertName } from "../components/observability/alert-catalogue";
import { metricNamesIn } from "../components/observability/metric-catalogue";
import { modelSelector } from "../components/serving/metric-labels";
import { STACKS, parseStack } from "./config-helpers";
import { sharedPlan } from "./shared-plans";
import { NS, RUNBOOK, THRESHOLDS } from "./fixtures/promtool/fixtures";
import { run } from "./fixtures/promtool/tool";
import { apt, findTool, needTool } from "./fixtures/tools";

const promtool = findTool("promtool", apt("prometheus"));
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "alerts-stacks-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("rule groups rendered by `plan` for every stack", () => {
  // The run's one render of each stack (test/shared-plans.ts), shared with plan.test.ts and policy-stacks.test.ts.
  const rendered = Object.fromEntries(STACKS.map((s) => [s, sharedPlan(s)]));

  it.for(STACKS)(
    "%s: the PrometheusRule is the builder's output for the stack config and passes promtool check rules",
    async (stack, ctx) => {
      const { out, result: r } = await rendered[stack]!;
      expect(r.code, r.stderr).toBe(0);
      const file = path.join(out, "manifests", "monitoring", "prometheusrule-retrieval-stack-alerts.yaml");
      const rule = YAML.parse(fs.readFileSync(file, "utf8"));
      const config = parseStack(stack);
      // One group per model, one for the GPUs when a model runs on one, one for the gateway when it is on.
      const names = rule.spec.groups.map((g: { name: string }) => g.name);
      expect([...names].sort()).toEqual(
        [
          ...config.models.map((m) => `retrieval-stack.model.${m.name}`),
          ...(config.models.some((m) => m.gpu) ? ["retrieval-stack.gpu"] : []),
          ...(config.gateway.enabled ? ["retrieval-stack.gateway"] : []),
        ].sort(),
      );
      // Every model has its group, with at least Down, latency, restarts and "no data".
      for (const m of config.models) {
        const g = rule.spec.groups.find((x: { name: string }) => x.name === `retrieval-stack.model.${m.name}`);
        const names = g.rules.map((x: { alert: string }) => x.alert);
        expect(names).toEqual(
          expect.arrayContaining([
            "ModelServiceDown",
            "ModelServiceHighLatencyP99",
            "ModelServicePodRestarting",
            "ModelMetricsMissing",
            "ModelQualityLow",
            "CanaryCheckFailing",
            "CanaryStale",
          ]),
        );
        const latency = g.rules.find((x: { alert: string }) => x.alert === "ModelServiceHighLatencyP99");
        expect(latency.expr).toMatch(new RegExp(`> ${m.slo.p99LatencyMs / 1000}$`));
      }

      needTool(ctx, promtool);
      const rulesFile = path.join(tmp(), "rules.yaml");
      fs.writeFileSync(rulesFile, YAML.stringify({ groups: rule.spec.groups }));
      const check = run(promtool, ["check", "rules", rulesFile]);
      expect(check.status, check.output).toBe(0);
    },
  );

  it("prod: every rendered alert links its runbook section (runbook_url = runbookBaseUrl#anchor)", async () => {
    const { out, result } = await rendered.prod!;
    expect(result.code).toBe(0);
    const file = path.join(out, "manifests", "monitoring", "prometheusrule-retrieval-stack-alerts.yaml");
    const rules = YAML.parse(fs.readFileSync(file, "utf8")).spec.groups.flatMap((g: { rules: unknown[] }) => g.rules);
    const base = parseStack("prod").observability.runbookBaseUrl;
    expect(base).toMatch(/^https:\/\/.+\/docs\/runbooks\.md$/);
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules as { alert: string; annotations: Record<string, string> }[])
      expect(r.annotations.runbook_url, r.alert).toBe(runbookUrl(base!, r.alert as AlertName));
  });

  it("plan --stack prod lists every alert with its threshold in plan.md", async () => {
    const { out, result } = await rendered.prod!;
    expect(result.code).toBe(0);
    const md = fs.readFileSync(path.join(out, "plan.md"), "utf8");
    const section = md.slice(md.indexOf("## Observability"));
    for (const alert of ALERT_NAMES) expect(section, alert).toContain(`\`${alert}\``);
    expect(section).toMatch(/`ModelServiceHighLatencyP99` \| warning \| qwen3-reranker \| p99 latency > 2000 ms/);
    // Every prod GPU model's engine reserves its memory up front: plan.md says why GpuMemoryPressure is absent.
    expect(section).toMatch(
      /- `GpuMemoryPressure`: every GPU model's engine reserves its memory up front .*`bge-large-zh` \(sglang: --mem-fraction-static 0\.9/,
    );
    expect(section).toMatch(/`oncall-wecom` \(wecom via the chat bridge\): critical/);
    // Every prod model has an error-rate alert: vLLM from its own counter, SGLang and KServe from the ingress and gateway.
    for (const m of ["bge-large-zh", "gte-base", "qwen3-reranker"])
      expect(section).toMatch(new RegExp(`\`ModelServiceHighErrorRate\` \\| critical \\| ${m} \\|`));
    expect(section).toMatch(
      /`ModelServiceHighErrorRate` \| critical \| bge-large-zh \| 5xx \/ all answers at the ingress and gateway > 5% over 5m/,
    );
    expect(section).not.toMatch(/ModelServiceHighErrorRate` for/);
    expect(section).not.toMatch(/\*\*Warning\*\*/);
  });
});

describe("every engine adapter under the alert rules", () => {
  const engines = Object.keys(ENGINE_ADAPTERS) as EngineName[];

  it.each(engines)("%s: the alert queries read only the metric names the adapter declares", (engine) => {
    const m = ENGINE_ADAPTERS[engine].metrics;
    expect(m.metricNames.length, `${engine} declares no metricNames`).toBeGreaterThan(0);
    const s = modelSelector("x", NS);
    const exprs = [
      m.inFlight(s),
      m.latencyP99(s, "5m"),
      m.requestRate(s, "5m"),
      m.queueDepth?.(s),
      m.errorRatio?.(s, "5m"),
      m.latencyQuantile?.(0.5, s, "5m"),
    ].filter((e): e is string => !!e);
    for (const e of exprs)
      for (const name of metricNamesIn(e)) expect(m.metricNames, `${engine}: ${e}`).toContain(name);
  });

  it.for(engines)(
    "%s: ModelMetricsMissing stays silent while the engine's series exist and fires when they stop (promtool)",
    (engine, ctx) => {
      needTool(ctx, promtool);
      const model = ModelConfigSchema.parse({
        name: "m1",
        model: "BAAI/bge-large-zh-v1.5",
        engine,
        task: "embed",
        replicas: { min: 1, max: 2 },
        slo: { p99LatencyMs: 500 },
      });
      const dir = tmp();
      fs.writeFileSync(
        path.join(dir, "rules.yaml"),
        YAML.stringify({
          groups: buildRuleGroups({
            models: [model],
            thresholds: THRESHOLDS,
            runbookBaseUrl: RUNBOOK,
            modelsNamespace: NS,
          }),
        }),
      );
      const names = ENGINE_ADAPTERS[engine].metrics.metricNames;
      // Every declared series for 10 minutes, then nothing: silent at 10m, firing at 30m.
      const input = names.map((n) => ({
        series: `${n}{namespace="${NS}",model="m1",pod="m1-0"${n.endsWith("_bucket") ? ',le="+Inf"' : ""}}`,
        values: "1x10",
      }));
      const pods = [
        { series: `kube_pod_labels{namespace="${NS}",pod="m1-0",label_retrieval_stack_io_model="m1"}`, values: "1x40" },
      ];
      const test = {
        rule_files: ["rules.yaml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [...input, ...pods],
            alert_rule_test: [
              { eval_time: "10m", alertname: "ModelMetricsMissing", exp_alerts: [] },
              {
                eval_time: "30m",
                alertname: "ModelMetricsMissing",
                exp_alerts: [
                  {
                    exp_labels: { severity: "warning", model: "m1", namespace: NS, engine },
                    exp_annotations: {
                      summary: "No metrics from model m1",
                      description: `Prometheus has received none of ${engine}'s metrics (${names.join(", ")}) for model m1 for 10m: dashboards, alerts and autoscaling are blind.`,
                      runbook_url: `${RUNBOOK}#modelmetricsmissing`,
                    },
                  },
                ],
              },
            ],
          },
        ],
      };
      fs.writeFileSync(path.join(dir, "test.yaml"), YAML.stringify(test));
      const r = run(promtool, ["test", "rules", "test.yaml"], dir);
      expect(r.status, r.output).toBe(0);
    },
  );
});
