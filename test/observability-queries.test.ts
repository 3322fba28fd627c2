/**
 * Every dashboard query against what the project really writes: the LogQL of the log panels against the fields of
 * the gateway's audit line (the AuditLine interface of images/gateway/src/audit.ts, read with the TypeScript
 * compiler) and the stream labels Alloy sets; the PromQL of every panel and alert against the series the gateway
 * (GatewayMetrics, instantiated), the canary (CANARY_METRICS), the engine adapters (metricNames) and the DCGM
 * exporter's configured field list declare, with the gateway's label names.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { parser } from "@grafana/lezer-logql";
import { describe, expect, it } from "vitest";
import { GatewayMetrics } from "../images/gateway/src/metrics";
import type { AuditLine } from "../images/gateway/src/audit";
import { AUDIT_FIELDS, allLogQueries } from "../components/observability/logs/queries";
import { gatewayAuditDashboard, logQueriesOf, modelLogsDashboard } from "../components/observability/logs/dashboards";
import { LOG_LABELS } from "../components/observability/logs/alloy";
import { buildDashboards, queriesOf } from "../components/observability/dashboards";
import { buildRuleGroups } from "../components/observability/alert-rules";
import { DCGM_METRICS, GATEWAY_METRICS, metricNamesIn } from "../components/observability/metric-catalogue";
import { DCGM_COUNTERS } from "../components/gpu/dcgm";
import { CANARY_METRIC_NAMES } from "../components/contracts/canary";
import { ENGINE_ADAPTERS } from "../components/serving/engines";
import { parseStack } from "./config-helpers";

// Compile-time: every field the log queries may read is a field of the gateway's audit line (or its "audit" tag).
const _fieldsAreAuditFields: readonly (keyof AuditLine | "audit")[] = AUDIT_FIELDS;
void _fieldsAreAuditFields;

/** Property names of `interface AuditLine` in the gateway's source, as the compiler reads them. */
function auditLineFields(): string[] {
  const file = path.join(__dirname, "../images/gateway/src/audit.ts");
  const src = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const names: string[] = [];
  src.forEachChild((n) => {
    if (ts.isInterfaceDeclaration(n) && n.name.text === "AuditLine")
      for (const m of n.members) if (m.name && ts.isIdentifier(m.name)) names.push(m.name.text);
  });
  return names;
}

/** Identifiers a LogQL query reads after its stream selector (label filters, unwrap, grouping) and in it. */
function logqlFields(query: string): { stream: string[]; parsed: string[] } {
  const q = query.replaceAll("$__auto", "1m");
  const stream: string[] = [];
  const parsed: string[] = [];
  parser.parse(q).iterate({
    enter: (n) => {
      if (n.name !== "Identifier") return;
      const text = q.slice(n.from, n.to);
      let p = n.node.parent;
      while (p && !["Selector", "LabelFilter", "UnwrapExpr", "Grouping"].includes(p.name)) p = p.parent;
      if (p?.name === "Selector") stream.push(text);
      else if (p) parsed.push(text);
    },
  });
  return { stream, parsed };
}

const audit = { namespace: "retrieval", container: "gateway" };
const logDashboards = [modelLogsDashboard(["bge", "qwen3-reranker"], "retrieval"), gatewayAuditDashboard(audit)];

describe("log panels read fields the gateway writes", () => {
  const written = new Set([...auditLineFields(), "audit"]);

  it("the compiler finds the audit line's fields (the reader is real)", () => {
    expect(written).toContain("input_tokens");
    expect(written).toContain("latency_ms");
    expect(written).not.toContain("tokens");
  });

  it("AUDIT_FIELDS are all fields of the audit line", () => {
    expect(AUDIT_FIELDS.filter((f) => !written.has(f))).toEqual([]);
  });

  it.each(logDashboards.flatMap(logQueriesOf))("%s", (q) => {
    const { stream, parsed } = logqlFields(q);
    expect(stream.filter((l) => !(LOG_LABELS as readonly string[]).includes(l))).toEqual([]);
    const known = new Set<string>([...written, ...LOG_LABELS]);
    expect(parsed.filter((f) => !known.has(f))).toEqual([]);
  });

  it("a query that unwraps a field nobody writes is caught (the check can fail)", () => {
    const { parsed } = logqlFields(
      'sum(sum_over_time({namespace="a"} | json | key =~ "k" | unwrap tokens [5m])) by (model)',
    );
    expect(parsed.filter((f) => !written.has(f))).toEqual(["tokens"]);
  });

  it("the audit dashboard's token panel sums input_tokens", () => {
    expect(allLogQueries("retrieval", audit).join("\n")).toMatch(/\| unwrap input_tokens \[/);
  });
});

/** Names and label names of every series the gateway declares (histograms as _bucket/_sum/_count). */
function gatewaySeries(): Map<string, readonly string[]> {
  const metrics = new GatewayMetrics();
  const out = new Map<string, readonly string[]>();
  for (const m of Object.values(metrics) as unknown[]) {
    if (!m || typeof m !== "object" || !("labelNames" in m) || !("name" in m)) continue;
    const { name, labelNames } = m as { name: string; labelNames: readonly string[] };
    if ("buckets" in m) {
      out.set(`${name}_bucket`, [...labelNames, "le"]);
      out.set(`${name}_sum`, labelNames);
      out.set(`${name}_count`, labelNames);
    } else out.set(name, labelNames);
  }
  return out;
}

/** Labels Prometheus adds when it scrapes a pod (ServiceMonitor/PodMonitor target labels). */
const TARGET_LABELS = ["namespace", "pod", "container", "service", "endpoint", "job", "instance"];

describe("PromQL of every panel and alert reads series the project writes", () => {
  const prod = parseStack("prod");
  const gateway = gatewaySeries();

  it("the gateway's declared series are found (the reader is real)", () => {
    expect(gateway.get("retrieval_gateway_requests_total")).toEqual(["key", "model", "route", "status"]);
    expect(gateway.has("retrieval_gateway_upstream_duration_seconds_bucket")).toBe(true);
  });

  it("the catalogue's gateway, canary and DCGM series are the ones their writers declare", () => {
    expect(GATEWAY_METRICS.filter((n) => !gateway.has(n))).toEqual([]);
    expect(DCGM_METRICS).toEqual(DCGM_COUNTERS.map((c) => c.field));
  });

  const written = new Set<string>([
    ...gateway.keys(),
    ...CANARY_METRIC_NAMES,
    ...DCGM_COUNTERS.map((c) => c.field),
    ...Object.values(ENGINE_ADAPTERS).flatMap((a) => a.metrics.metricNames),
  ]);
  /** Series of exporters we install but do not write ourselves (kube-state-metrics, cAdvisor, NGINX, Prometheus). */
  const external = (n: string) =>
    /^(kube_|container_|nginx_ingress_|up$|ALERTS$)/.test(n) || n.startsWith("node_") || n === "time";

  const dashboards = buildDashboards(prod.models, "retrieval", undefined, prod.ingress, {
    canary: prod.observability.canary,
    logs: true,
    gateway: prod.gateway,
  });
  const rules = buildRuleGroups({
    models: prod.models,
    thresholds: prod.observability.alerts,
    modelsNamespace: "retrieval",
    ingress: prod.ingress,
    gateway: prod.gateway,
    canary: prod.observability.canary,
  }).flatMap((g) => g.rules);
  const queries = [...dashboards.flatMap((d) => queriesOf(d)), ...rules.map((r) => r.expr)];

  it.each(queries)("%s", (q) => {
    const names = metricNamesIn(q).filter((n) => !external(n));
    expect(names.filter((n) => !written.has(n))).toEqual([]);
    // The gateway's series are matched only on labels it writes (or the scrape adds).
    for (const m of q.matchAll(/(retrieval_gateway_[a-z_]+)\{([^}]*)\}/g)) {
      const labels = [...m[2]!.matchAll(/([a-zA-Z_]+)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]!);
      const declared = [...(gateway.get(m[1]!) ?? []), ...TARGET_LABELS];
      expect(
        labels.filter((l) => !declared.includes(l)),
        m[0],
      ).toEqual([]);
    }
  });

  it("a query on a series nobody writes is caught (the check can fail)", () => {
    expect(metricNamesIn("rate(retrieval_gateway_upstream_status_total[5m])").filter((n) => !written.has(n))).toEqual([
      "retrieval_gateway_upstream_status_total",
    ]);
  });
});
