/**
 * The LogQL of the log panels, in one place (tests parse every one with Grafana's LogQL grammar,
 * @grafana/lezer-logql). Stream labels come from Alloy's relabelling (alloy.ts LOG_LABELS).
 */

/**
 * Fields of the gateway's JSON audit lines the log panels read or show (AuditLine in images/gateway/src/audit.ts;
 * test/observability-queries.test.ts checks every field and every query against that interface).
 */
export const AUDIT_FIELDS = [
  "time",
  "request_id",
  "key",
  "model",
  "route",
  "status",
  "latency_ms",
  "input_tokens",
] as const;

export interface AuditSource {
  /** Namespace and container of the gateway's pods. */
  readonly namespace: string;
  readonly container: string;
}

const q = (s: string) => JSON.stringify(s);

/** Every line of one model's pods (all engines, all containers), newest first in a logs panel. */
export function modelLogs(modelsNamespace: string, model: string, filter = "$search"): string {
  return `{namespace=${q(modelsNamespace)}, model=${q(model)}} |~ ${q(`(?i)${filter}`)}`;
}

/** The gateway's audit lines, parsed, filtered by the dashboard's key/model/status variables (regex, "All" = .*). */
export function auditLines(src: AuditSource): string {
  return `{namespace=${q(src.namespace)}, container=${q(src.container)}} | json | request_id != "" | key =~ "$key" | model =~ "$model" | status =~ "$status"`;
}

/** Requests per key, model and status (per second) from the audit lines. */
export function auditRequestsBy(src: AuditSource): string {
  return `sum by (key, model, status) (rate(${auditLines(src)} [$__auto]))`;
}

/** p95 of the gateway's own latency_ms per model. */
export function auditLatencyP95(src: AuditSource): string {
  return `quantile_over_time(0.95, ${auditLines(src)} | unwrap latency_ms [$__auto]) by (model)`;
}

/** Input tokens per key and model (the engines' own counts, as the gateway logs them). */
export function auditTokens(src: AuditSource): string {
  return `sum by (key, model) (sum_over_time(${auditLines(src)} | unwrap input_tokens [$__auto]))`;
}

/** Every query of the log dashboards, for tests. */
export function allLogQueries(modelsNamespace: string, src: AuditSource): string[] {
  return [
    modelLogs(modelsNamespace, "$model"),
    auditLines(src),
    auditRequestsBy(src),
    auditLatencyP95(src),
    auditTokens(src),
  ];
}
