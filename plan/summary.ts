import type { PlatformConfig } from "../components/config";
import type { RenderedPlan } from "./render";
import type { K8sObject } from "./validate";
import { markdownTable } from "./markdown";
import { policySummary } from "./summary-policy";
import { gpuSummary } from "./summary-gpu";
import { costSummary } from "./summary-cost";
import { limitStoreSummary } from "./summary-limit-store";
import { observabilitySummary } from "./summary-observability";
import { canaryAndLogsSummary } from "./summary-canary-logs";
import { servingSummary } from "./summary-serving";
import { ingressSummary } from "./summary-ingress";
import { verificationSummary } from "./summary-verification";
import { gatewaySummary } from "./summary-gateway";
import { modelFitSummary } from "./summary-model-fit";
import { planWarnings } from "./warnings";
import { diagramSummary } from "./summary-diagram";
import { deploySummary } from "./summary-deploy";

export interface SummaryContext {
  readonly stack: string;
  readonly config: PlatformConfig;
  readonly plan: RenderedPlan;
  /** Secret keys rendered with placeholders because the stack file cannot carry them offline. */
  readonly placeholders: readonly string[];
}

/** A section of plan.md. Components add theirs to SUMMARY_SECTIONS (cost, URLs, alerts, policies...). */
export type SummarySection = (ctx: SummaryContext) => string | undefined;

function table(head: string[], rows: (string | number)[][]): string {
  return rows.length === 0 ? "_none_" : markdownTable(head, rows);
}

/** Container images of every workload object, including init containers. */
export function imagesOf(objects: readonly K8sObject[]): string[] {
  const images = new Set<string>();
  const walk = (v: unknown, key = ""): void => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k);
    else if (key === "image" && typeof v === "string") images.add(v);
  };
  objects.forEach((o) => walk(o));
  return [...images].sort();
}

const overview: SummarySection = ({ stack, config, plan, placeholders }) => {
  const lines = [
    `# Plan: stack \`${stack}\``,
    "",
    `- Environment: **${config.environment}**; cluster: **${config.cluster.mode}** (${config.cluster.name})`,
    `- Pulumi resources: **${plan.resources.length}**; Kubernetes objects: **${plan.objects.length}** (all schema-valid); Helm releases: **${plan.helmReleases.length}**`,
  ];
  for (const w of planWarnings(config)) lines.push("", `> **Warning:** ${w}`);
  if (placeholders.length)
    lines.push(
      `- Offline placeholders for secrets not in the stack file: ${placeholders.map((p) => `\`${p}\``).join(", ")}. Before \`pulumi up\`: \`pulumi config set --secret <key> ...\` (docs/deploying.md#secrets-to-set).`,
    );
  return lines.join("\n");
};

const perComponent: SummarySection = ({ plan }) => {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const counts = new Map<string, number>();
  for (const r of plan.resources) {
    let top = r;
    while (top.parent && byUrn.get(top.parent)) top = byUrn.get(top.parent)!;
    // A Kubernetes object is shown by the name it gets in the cluster (the Namespace `retrieval`, not its resource
    // name `models`).
    const k8sName = (top.inputs as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
    const key =
      typeof k8sName === "string" && k8sName !== top.name
        ? `${top.type} \`${k8sName}\` (resource \`${top.name}\`)`
        : `${top.type} \`${top.name}\``;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return `## Resources per component\n\n${table(
    ["component", "resources"],
    [...counts].map(([k, n]) => [k, n]),
  )}`;
};

const models: SummarySection = ({ config }) => {
  const rows = config.models.map((m) => [
    `\`${m.name}\``,
    m.model,
    m.engine,
    m.task,
    m.gpu ? `${m.gpu.count} x ${m.gpu.nodeGroup}` : "CPU",
    `${m.replicas.min}-${m.replicas.max}`,
    `${m.slo.p99LatencyMs} ms`,
  ]);
  return `## Models\n\n${table(["name", "model", "engine", "task", "GPUs per replica", "replicas", "p99 SLO"], rows)}`;
};

const images: SummarySection = ({ plan }) =>
  `## Images\n\n${
    imagesOf(plan.objects)
      .map((i) => `- \`${i}\``)
      .join("\n") || "_none_"
  }`;

const helm: SummarySection = ({ plan }) =>
  `## Helm releases\n\n${table(
    ["release", "chart", "version", "repository", "namespace"],
    plan.helmReleases.map((h) => [
      h.name ?? h.resourceName,
      h.chart,
      h.version ?? "(unpinned)",
      h.repo ?? "",
      h.namespace ?? "",
    ]),
  )}`;

export const SUMMARY_SECTIONS: SummarySection[] = [
  overview,
  diagramSummary,
  perComponent,
  deploySummary,
  models,
  servingSummary,
  gpuSummary,
  limitStoreSummary,
  costSummary,
  modelFitSummary,
  images,
  helm,
  ingressSummary,
  gatewaySummary,
  observabilitySummary,
  canaryAndLogsSummary,
  verificationSummary,
  policySummary,
];

export function renderSummary(ctx: SummaryContext): string {
  return SUMMARY_SECTIONS.map((s) => s(ctx))
    .filter((s): s is string => !!s)
    .join("\n\n")
    .concat("\n");
}
