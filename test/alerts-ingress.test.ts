import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { IngressSchema } from "../components/config";
import { buildRuleGroups, type AlertingRule } from "../components/observability/alert-rules";
import { buildDashboards, queriesOf } from "../components/observability/dashboards";
import { knownMetricNames, metricNamesIn } from "../components/observability/metric-catalogue";
import { INGRESS_METRIC_NAMES, ingressServerErrorRatio } from "../components/ingress/metrics";
import { UPSTREAM_RESPONSES } from "../components/ingress/nginx-ingress/metrics";
import { STACKS, parseStack } from "./config-helpers";
import { EVERY_ENGINE, PROD_INGRESS, renderIngress } from "./fixtures/ingress";
import {
  GATEWAY_PATH_CASES,
  INGRESS_CASES,
  ingressAndGatewayRuleGroups,
  ingressRuleGroups,
} from "./fixtures/promtool/ingress-cases";
import { promtoolTestRules, run } from "./fixtures/promtool/tool";
import { apt, findTool, missingToolTest } from "./fixtures/tools";

const prod = parseStack("prod");
const rulesOf = (ingress: typeof prod.ingress | undefined): AlertingRule[] =>
  buildRuleGroups({
    models: prod.models,
    thresholds: prod.observability.alerts,
    runbookBaseUrl: prod.observability.runbookBaseUrl,
    ingress,
  }).flatMap((g) => g.rules);
const errorRule = (rules: AlertingRule[], model: string) =>
  rules.find((r) => r.alert === "ModelServiceHighErrorRate" && r.labels.model === model);

describe("ModelServiceHighErrorRate for engines without a failure counter", () => {
  it("prod: SGLang (bge-large-zh) and KServe (gte-base) models get it from the ingress; vLLM (qwen3-reranker) keeps its own counter", () => {
    const rules = rulesOf(prod.ingress);
    for (const m of ["bge-large-zh", "gte-base"]) {
      const r = errorRule(rules, m);
      expect(r, m).toBeDefined();
      expect(r!.expr).toContain(
        `${UPSTREAM_RESPONSES}{resource_type="virtualserver",resource_name="retrieval-api",resource_namespace="retrieval",service="${m}",code=~"5.."}`,
      );
      expect(r!.expr).toMatch(/\) > 0\.05$/);
      expect(r!.annotations.description).toMatch(/through the ingress with a server error \(5xx\)/);
    }
    const vllm = errorRule(rules, "qwen3-reranker")!;
    expect(vllm.expr).toContain("http_requests_total");
    expect(vllm.expr).not.toContain("nginx");
  });

  it("with the ingress disabled (or not given), SGLang and KServe models have none", () => {
    const disabled = IngressSchema.parse({ ...prod.ingress, enabled: false });
    for (const rules of [rulesOf(disabled), rulesOf(undefined)]) {
      expect(errorRule(rules, "bge-large-zh")).toBeUndefined();
      expect(errorRule(rules, "gte-base")).toBeUndefined();
      expect(errorRule(rules, "qwen3-reranker")).toBeDefined();
    }
  });

  it("selects the Service, VirtualServer and namespace the ingress really routes the model to", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const vs = rendered.objects("VirtualServer")[0]!;
    const ingress = IngressSchema.parse(PROD_INGRESS);
    const proxied = vs.spec.routes.filter((r: { action: { proxy?: unknown } }) => r.action.proxy);
    expect(proxied).toHaveLength(EVERY_ENGINE.length);
    for (const route of proxied) {
      const upstream = vs.spec.upstreams.find((u: { name: string }) => u.name === route.action.proxy.upstream);
      const expr = ingressServerErrorRatio(upstream.name, EVERY_ENGINE, ingress, vs.metadata.namespace)!("5m");
      expect(expr).toContain(
        `resource_type="virtualserver",resource_name="${vs.metadata.name}",resource_namespace="${vs.metadata.namespace}",service="${upstream.service}"`,
      );
    }
  });

  it("the controller's ServiceMonitor keeps the histogram's own `service` label (honorLabels) and latency metrics are on", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const sm = rendered.objects("ServiceMonitor")[0]!;
    // Without honorLabels the operator's target label `service` (the metrics Service) wins and Prometheus renames
    // the histogram's label to `exported_service`: the error-ratio query would select nothing.
    expect(sm.spec.endpoints.map((e: { honorLabels?: boolean }) => e.honorLabels)).toEqual([true]);
    expect(
      rendered.inputs("kubernetes:helm.sh/v3:Release", "ingress-controller").values.controller.enableLatencyMetrics,
    ).toBe(true);
  });

  it("model dashboards graph the same ratio the alert reads", () => {
    const dashboards = buildDashboards(prod.models, "retrieval", undefined, prod.ingress);
    const sglang = dashboards.find((d) => d.uid === "rs-model-bge-large-zh")!;
    const panel = (sglang.panels ?? []).find((p) => p.title === "Error ratio (5xx at the ingress)");
    expect(panel).toBeDefined();
    expect(queriesOf(sglang).join("\n")).toContain('service="bge-large-zh",code=~"5.."');
  });
});

describe("metric allow-list", () => {
  const allowed = knownMetricNames();

  it("holds every metric the ingress controller driver's queries read", () => {
    expect(INGRESS_METRIC_NAMES.length).toBeGreaterThan(0);
    for (const n of INGRESS_METRIC_NAMES) expect(allowed.has(n), n).toBe(true);
  });

  it.each(STACKS)("%s: every alert expression reads only allow-listed metric names", (stack) => {
    const config = parseStack(stack);
    const groups = buildRuleGroups({
      models: config.models,
      thresholds: config.observability.alerts,
      runbookBaseUrl: config.observability.runbookBaseUrl,
      ingress: config.ingress,
    });
    for (const r of groups.flatMap((g) => g.rules))
      for (const name of metricNamesIn(r.expr))
        expect(allowed.has(name), `${stack} ${r.alert}: "${name}" in ${r.expr}`).toBe(true);
  });

  it("the check catches a metric the allow-list does not know", () => {
    expect(
      metricNamesIn(
        `sum(rate(nginx_ingress_controller_upstream_server_response_latency_ms_bucket{service="x"}[5m]))`,
      ).filter((n) => !allowed.has(n)),
    ).toEqual(["nginx_ingress_controller_upstream_server_response_latency_ms_bucket"]);
  });
});

const promtool = findTool("promtool", apt("prometheus"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alerts-ingress-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const rulesFile = path.join(dir, "rules.yaml");
fs.writeFileSync(rulesFile, YAML.stringify({ groups: ingressRuleGroups() }, { lineWidth: 0 }));
const bothPathsFile = path.join(dir, "rules-gateway.yaml");
fs.writeFileSync(bothPathsFile, YAML.stringify({ groups: ingressAndGatewayRuleGroups() }, { lineWidth: 0 }));

describe("ModelServiceHighErrorRate from ingress series under promtool", () => {
  if (!promtool.path) {
    missingToolTest(promtool);
    return;
  }
  it("promtool check rules accepts the rule file", () => {
    const r = run(promtool, ["check", "rules", rulesFile]);
    expect(r.status, r.output).toBe(0);
  });
  INGRESS_CASES.forEach((c, i) =>
    it(c.name, () => {
      const r = promtoolTestRules(promtool, rulesFile, c, i);
      expect(r.status, r.output).toBe(0);
    }),
  );
  it("a wrong expectation fails (the 10% case expected silent)", () => {
    const c = INGRESS_CASES[0]!;
    const r = promtoolTestRules(
      promtool,
      rulesFile,
      { ...c, alert_rule_test: c.alert_rule_test.map((t) => ({ ...t, exp_alerts: [] })) },
      "wrong",
    );
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/FAILED/);
  });
});

describe("ModelServiceHighErrorRate from the ingress and the gateway under promtool", () => {
  if (!promtool.path) {
    missingToolTest(promtool);
    return;
  }
  it("promtool check rules accepts the rule file", () => {
    const r = run(promtool, ["check", "rules", bothPathsFile]);
    expect(r.status, r.output).toBe(0);
  });
  GATEWAY_PATH_CASES.forEach((c, i) =>
    it(c.name, () => {
      const r = promtoolTestRules(promtool, bothPathsFile, c, `gateway-${i}`);
      expect(r.status, r.output).toBe(0);
    }),
  );
});
