// The alert rules CI checks with promtool 2.42 must mean the same under the cluster's Prometheus 3.x: every rule
// of every rendered stack (and of the promtool test fixtures) stays within what both accept (test/promtool/compat.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { CHARTS } from "../components/versions";
import { STACKS } from "./config-helpers";
import { sharedPlan } from "./shared-plans";
import { testRuleGroups } from "./fixtures/promtool/fixtures";
import { modelAlertRuleGroups } from "./fixtures/promtool/model-alert-cases";
import {
  durationSeconds,
  exprProblems,
  prometheusCompatProblems,
  type RuleGroupLike,
} from "./fixtures/promtool/compat";

const group = (expr: string, extra: Record<string, unknown> = {}): RuleGroupLike => ({
  name: "g",
  ...extra,
  rules: [{ alert: "A", expr, for: "5m" }],
});

describe("rules within what promtool 2.42 and Prometheus 3.x both accept", () => {
  it.each(STACKS)("stack %s: the rendered PrometheusRule", async (stack) => {
    const { out, result } = await sharedPlan(stack);
    expect(result.code, result.stderr).toBe(0);
    const file = path.join(out, "manifests", "monitoring", "prometheusrule-retrieval-stack-alerts.yaml");
    if (!fs.existsSync(file)) return; // a stack without observability renders no rules
    const rule = YAML.parse(fs.readFileSync(file, "utf8")) as { spec: { groups: RuleGroupLike[] } };
    expect(rule.spec.groups.length).toBeGreaterThan(0);
    expect(prometheusCompatProblems(rule.spec.groups)).toEqual([]);
  });

  it("the rule files the promtool suites test", () => {
    const groups = [...testRuleGroups(), ...modelAlertRuleGroups()] as unknown as RuleGroupLike[];
    expect(prometheusCompatProblems(groups)).toEqual([]);
  });

  it("rejects each feature that differs between them (the check can fail)", () => {
    const cases: [RuleGroupLike, RegExp][] = [
      [group("holt_winters(x[10m], 0.5, 0.5) > 1"), /function holt_winters/],
      [group("double_exponential_smoothing(x[10m], 0.5, 0.5) > 1"), /function double_exponential_smoothing/],
      [group("limitk(2, up) > 0"), /function limitk/],
      [group('sort_by_label(up, "job")'), /function sort_by_label/],
      [group("mad_over_time(x[10m]) > 1"), /function mad_over_time/],
      [group('{"my.metric", job="a"} > 1'), /quoted metric name/],
      [group("rate(x[30s]) > 1"), /range \[30s\] is under two scrape intervals/],
      [group("max_over_time(rate(x[5m])[5m:5m]) > 1"), /subquery \[5m:5m\] spans under two steps/],
      [group('x_bucket{le="1"} > 1'), /le="1": Prometheus 3.x normalises/],
      [group("up == 0", { query_offset: "1m" }), /key "query_offset"/],
      [group("up == 0", { labels: { team: "a" } }), /key "labels"/],
    ];
    for (const [g, expected] of cases) {
      const problems = prometheusCompatProblems([g]);
      expect(problems.join("\n"), JSON.stringify(g)).toMatch(expected);
    }
  });

  it("accepts what both read the same: common functions, aggregations, strings with brackets, float le values", () => {
    expect(
      exprProblems(
        'sum by (model) (rate(http_requests_total{code=~"5..",path!~"/metrics|/health"}[5m])) / clamp_min(sum by (model) (rate(http_requests_total[5m])), 1e-9) > 0.05',
      ),
    ).toEqual([]);
    expect(exprProblems('histogram_quantile(0.99, sum by (le) (rate(x_bucket{le="0.5"}[5m]))) > 0.3')).toEqual([]);
    expect(exprProblems('absent(up{job="a(b)[1s]"}) or vector(0)')).toEqual([]);
    expect(exprProblems("max_over_time(rate(x[5m])[30m:5m]) > 1")).toEqual([]);
    expect(durationSeconds("1h30m")).toBe(5400);
    expect(durationSeconds("5x")).toBeUndefined();
  });

  it("the cluster runs Prometheus 3.x: kube-prometheus-stack's pin is the one the differences were read against", () => {
    // The compat list was read for kube-prometheus-stack 88.5.3 (values.yaml prometheus image v3.14.0-distroless);
    // a new chart pin must re-read the Prometheus version it runs and the differences above.
    expect(CHARTS.kubePrometheusStack.version).toBe("88.5.3");
  });
});
