import {
  ThresholdsMode,
  VariableRefresh,
  type Dashboard,
  type DataSourceRef,
  type FieldConfigSource,
  type Panel,
  type VariableModel,
} from "@grafana/schema";

/** Every panel reads the Prometheus data source chosen in the dashboard's `datasource` variable. */
const PROMETHEUS: DataSourceRef = { type: "prometheus", uid: "${datasource}" };

/** Grafana's JSON model version these dashboards are written for (Grafana 12, the chart's default). */
const SCHEMA_VERSION = 41;

export interface Query {
  readonly expr: string;
  readonly legend: string;
}

/** A Prometheus query target as Grafana stores it. */
function target(q: Query, i: number): Record<string, unknown> {
  return {
    datasource: PROMETHEUS,
    expr: q.expr,
    legendFormat: q.legend,
    refId: String.fromCharCode(65 + i),
    range: true,
  };
}

interface PanelOptions {
  readonly unit?: string;
  readonly description?: string;
  /** Draw a red threshold line/colour at this value (e.g. the model's latency SLO). */
  readonly threshold?: number;
  readonly min?: number;
  readonly max?: number;
}

/** A laid-out panel: builders return the panel without gridPos; `layout` assigns positions. */
export type PanelSpec = Omit<Panel, "gridPos" | "id">;

function fieldConfig(o: PanelOptions): FieldConfigSource {
  return {
    defaults: {
      unit: o.unit,
      min: o.min,
      max: o.max,
      ...(o.threshold === undefined
        ? {}
        : {
            thresholds: {
              mode: ThresholdsMode.Absolute,
              steps: [
                { color: "green", value: null },
                { color: "red", value: o.threshold },
              ],
            },
            custom: { thresholdsStyle: { mode: "line" } },
          }),
    },
    overrides: [],
  };
}

export function timeseries(title: string, queries: readonly Query[], o: PanelOptions = {}): PanelSpec {
  return {
    type: "timeseries",
    title,
    description: o.description,
    datasource: PROMETHEUS,
    targets: queries.map(target),
    fieldConfig: fieldConfig(o),
    options: {
      legend: { displayMode: "list", placement: "bottom", showLegend: true },
      tooltip: { mode: "multi", sort: "desc" },
    },
  };
}

export function stat(title: string, query: Query, o: PanelOptions = {}): PanelSpec {
  return {
    type: "stat",
    title,
    description: o.description,
    datasource: PROMETHEUS,
    targets: [target(query, 0)],
    fieldConfig: fieldConfig(o),
    options: {
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      colorMode: "value",
      graphMode: "area",
    },
  };
}

/** A note where a metric does not exist for an engine (better than an empty panel). */
export function note(title: string, content: string): PanelSpec {
  return { type: "text", title, options: { mode: "markdown", content } };
}

/** A row header: the panels after it start on a new line under this title. */
export function row(title: string): PanelSpec {
  return { type: "row", title, collapsed: false, panels: [] } as PanelSpec;
}

/** Places panels left to right, `perRow` per row (a row header starts a new line), and numbers them. */
function layout(panels: readonly PanelSpec[], perRow = 3, height = 8): Panel[] {
  const width = Math.floor(24 / perRow);
  let col = 0;
  let y = 0;
  return panels.map((p, i) => {
    if (p.type === "row") {
      if (col > 0) y += height;
      col = 0;
      y += 1;
      return { ...p, id: i + 1, gridPos: { x: 0, y: y - 1, w: 24, h: 1 } };
    }
    const gridPos = { x: col * width, y, w: width, h: height };
    col = (col + 1) % perRow;
    if (col === 0) y += height;
    return { ...p, id: i + 1, gridPos };
  });
}

const datasourceVariable: VariableModel = {
  name: "datasource",
  label: "Data source",
  type: "datasource",
  query: "prometheus",
};

export function customVariable(name: string, label: string, values: readonly string[]): VariableModel {
  const first = values[0] ?? "";
  return {
    name,
    label,
    type: "custom",
    query: values.join(","),
    current: { text: first, value: first },
    options: values.map((v, i) => ({ text: v, value: v, selected: i === 0 })),
  };
}

export function queryVariable(name: string, label: string, query: string): VariableModel {
  return {
    name,
    label,
    type: "query",
    datasource: PROMETHEUS,
    query: { query, refId: "variable" },
    refresh: VariableRefresh.onTimeRangeChanged,
    includeAll: true,
    multi: true,
    current: { text: "All", value: "$__all" },
  };
}

export function dashboard(
  uid: string,
  title: string,
  tags: readonly string[],
  variables: readonly VariableModel[],
  panels: readonly PanelSpec[],
  perRow = 3,
): Dashboard {
  return {
    uid,
    title,
    tags: ["retrieval-stack", ...tags],
    editable: false,
    schemaVersion: SCHEMA_VERSION,
    timezone: "browser",
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    templating: { list: [datasourceVariable, ...variables] },
    panels: layout(panels, perRow),
  };
}

/** Every PromQL expression of a dashboard (panel targets), for tests and allow-list checks. */
export function queriesOf(d: Dashboard): string[] {
  const out: string[] = [];
  for (const p of d.panels ?? [])
    for (const t of ("targets" in p ? p.targets : undefined) ?? []) if (typeof t.expr === "string") out.push(t.expr);
  return out;
}
