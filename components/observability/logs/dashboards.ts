import type { Dashboard, DashboardLink, DataSourceRef } from "@grafana/schema";
import { customVariable, dashboard, type PanelSpec } from "../dashboards/panels";
import {
  auditLatencyP95,
  auditLines,
  auditRequestsBy,
  auditTokens,
  AUDIT_FIELDS,
  modelLogs,
  type AuditSource,
} from "./queries";

/** The Loki data source Grafana gets (kube-prometheus-stack grafana.additionalDataSources), by uid. */
export const LOKI_DATASOURCE_UID = "loki";
const LOKI: DataSourceRef = { type: "loki", uid: LOKI_DATASOURCE_UID };
export const MODEL_LOGS_UID = "rs-model-logs";
export const GATEWAY_AUDIT_UID = "rs-gateway-audit";

/** The link on every model dashboard to its logs. */
export function modelLogsLink(model: string): DashboardLink {
  return {
    title: "Model logs",
    type: "link",
    icon: "doc",
    tooltip: `Every log line of ${model}'s pods (Loki)`,
    url: `/d/${MODEL_LOGS_UID}/model-logs?var-model=${encodeURIComponent(model)}`,
    tags: [],
    asDropdown: false,
    targetBlank: false,
    // Keep the time range: the logs of the moment the graph shows.
    includeVars: false,
    keepTime: true,
  };
}

const target = (expr: string, refId = "A", legend?: string) => ({
  datasource: LOKI,
  expr,
  refId,
  ...(legend ? { legendFormat: legend } : {}),
});

function logsPanel(title: string, expr: string, description?: string): PanelSpec {
  return {
    type: "logs",
    title,
    description,
    datasource: LOKI,
    targets: [target(expr)],
    options: { showTime: true, wrapLogMessage: true, sortOrder: "Descending", enableLogDetails: true },
  } as PanelSpec;
}

function lokiTimeseries(title: string, expr: string, legend: string, unit?: string): PanelSpec {
  return {
    type: "timeseries",
    title,
    datasource: LOKI,
    targets: [target(expr, "A", legend)],
    fieldConfig: { defaults: { unit, min: 0 }, overrides: [] },
    options: { legend: { displayMode: "list", placement: "bottom", showLegend: true } },
  } as PanelSpec;
}

const textbox = (name: string, label: string, value: string) => ({
  name,
  label,
  type: "textbox" as const,
  query: value,
  current: { text: value, value },
});

/** "Model logs": every line of the chosen model's pods, with a search box. */
export function modelLogsDashboard(models: readonly string[], modelsNamespace: string): Dashboard {
  const d = dashboard(
    MODEL_LOGS_UID,
    "Model logs",
    ["logs", "model"],
    [customVariable("model", "Model", models), textbox("search", "Search (regex)", "")],
    [logsPanel("Model logs", modelLogs(modelsNamespace, "$model"), "Lines of every container of the model's pods.")],
    1,
  );
  // One logs panel over the whole width and a useful height.
  return { ...d, panels: (d.panels ?? []).map((p) => ({ ...p, gridPos: { x: 0, y: 0, w: 24, h: 24 } })) };
}

/** "Gateway audit": the gateway's JSON audit lines by key, model and status. */
export function gatewayAuditDashboard(src: AuditSource): Dashboard {
  const regexBox = (name: string, label: string) => textbox(name, label, ".*");
  return dashboard(
    GATEWAY_AUDIT_UID,
    "Gateway audit",
    ["logs", "gateway", "audit"],
    [regexBox("key", "API key (regex)"), regexBox("model", "Model (regex)"), regexBox("status", "Status (regex)")],
    [
      lokiTimeseries(
        "Requests by key, model and status",
        auditRequestsBy(src),
        "{{key}} {{model}} {{status}}",
        "reqps",
      ),
      lokiTimeseries("Gateway latency p95 by model", auditLatencyP95(src), "{{model}}", "ms"),
      lokiTimeseries("Input tokens by key and model", auditTokens(src), "{{key}} {{model}}"),
      logsPanel("Audit lines", auditLines(src), AUDIT_FIELDS.join(", ")),
    ],
    2,
  );
}

/** Every LogQL expression of a dashboard. */
export function logQueriesOf(d: Dashboard): string[] {
  return (d.panels ?? []).flatMap((p) =>
    ("targets" in p ? (p.targets ?? []) : []).map((t) => (t as { expr?: string }).expr ?? ""),
  );
}
