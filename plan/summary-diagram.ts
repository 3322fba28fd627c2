import { lookupInstanceType } from "../components/cluster/instances";
import { GATEWAY_PATHS, planRoutes, publicBaseUrl } from "../components/ingress/routes";
import { verificationModeOf } from "../components/config/verification";
import type { SummarySection } from "./summary";
import type { K8sObject } from "./validate";

/** The rendered workloads of a component (label app.kubernetes.io/component), e.g. "gateway". */
function renderedWorkloads(objects: readonly K8sObject[], component: string): K8sObject[] {
  return objects.filter(
    (o) =>
      ["Deployment", "StatefulSet", "CronJob"].includes(o.kind) &&
      (o.metadata?.labels as Record<string, string> | undefined)?.["app.kubernetes.io/component"] === component,
  );
}

/** A Mermaid label in double quotes: Mermaid reads `#quot;` for a quote; line breaks as <br/>. */
const label = (...lines: string[]) => `["${lines.map((l) => l.replace(/"/g, "#quot;")).join("<br/>")}"]`;
const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, "_");

/**
 * The stack as a Mermaid flowchart (GitHub renders it in PR comments and job summaries): the entry point, its
 * routes, the gateway and the quality canary where the stack renders them (read from the rendered objects), every
 * model with engine, GPU class and replicas (grouped by node group), and the observability pieces that scrape,
 * scale, alert and verify them.
 */
export function stackDiagram(ctx: Parameters<SummarySection>[0]): string {
  const { config } = ctx;
  const lines = ["flowchart LR"];
  const gateway = renderedWorkloads(ctx.plan.objects, "gateway").find((o) => o.kind === "Deployment");
  const canary = renderedWorkloads(ctx.plan.objects, "quality-canary")[0];
  const groups = new Map<string, string[]>();
  for (const m of config.models) {
    const g = m.gpu
      ? `${m.gpu.nodeGroup} (${lookupInstanceType(config.gpuNodeGroups[m.gpu.nodeGroup]?.instanceTypes[0] ?? "")?.gpuModel ?? "GPU"})`
      : "CPU nodes";
    const gpu = m.gpu ? `${m.gpu.count} x ${m.gpu.nodeGroup}` : "CPU";
    const node = `  m_${id(m.name)}${label(m.name, `${m.engine} · ${gpu}`, `replicas ${m.replicas.min}-${m.replicas.max}`)}`;
    groups.set(g, [...(groups.get(g) ?? []), node]);
  }
  [...groups].forEach(([name, nodes], i) => lines.push(`  subgraph ng_${i}${label(name)}`, ...nodes, "  end"));

  if (config.ingress.enabled) {
    const base = publicBaseUrl(config.environment, config.ingress);
    const exposure = config.cluster.mode === "eks" ? `AWS NLB, ${config.ingress.exposure}` : "Service / port-forward";
    lines.push(`  client(("client"))`, `  lb${label(exposure)}`, `  nginx${label("NGINX ingress", base)}`);
    lines.push("  client --> lb --> nginx");
    for (const r of planRoutes(config.models, config.ingress).routes)
      lines.push(`  nginx -- "${r.publicPath.replace(/"/g, "#quot;")}" --> m_${id(r.model)}`);
  } else {
    lines.push(`  client(("in-cluster client"))`);
    for (const m of config.models) lines.push(`  client --> m_${id(m.name)}`);
  }
  if (gateway) {
    const replicas = (gateway.spec as { replicas?: number } | undefined)?.replicas;
    lines.push(
      `  gateway${label("retrieval gateway", `keys · limits · routing${replicas ? ` · ${replicas} replicas` : ""}`)}`,
    );
    const paths = [...GATEWAY_PATHS.prefixes.map((p) => `${p}*`), ...GATEWAY_PATHS.exact].join(" ");
    lines.push(config.ingress.enabled ? `  nginx -- "${paths}" --> gateway` : "  client --> gateway");
    for (const m of config.models) lines.push(`  gateway --> m_${id(m.name)}`);
  }
  if (canary) {
    lines.push(`  canary${label("quality canary", `every ${config.observability.canary.intervalSeconds} s`)}`);
    if (gateway) lines.push("  canary -.->|calls| gateway");
    else for (const m of config.models) lines.push(`  canary -.->|calls| m_${id(m.name)}`);
  }

  const obs = config.observability;
  if (obs.enabled) {
    lines.push(`  prom${label("Prometheus", `retention ${obs.retention}`)}`, `  am${label("Alertmanager")}`);
    lines.push(`  keda${label("KEDA")}`, `  grafana${label("Grafana")}`);
    for (const m of config.models) lines.push(`  prom -.->|scrape| m_${id(m.name)}`);
    lines.push("  keda -.->|queries| prom", "  grafana -.-> prom", "  prom -->|alerts| am");
    for (const m of config.models) lines.push(`  keda -.->|scales| m_${id(m.name)}`);
    if (gateway) lines.push("  prom -.->|scrape| gateway");
    if (canary) lines.push("  prom -.->|scrape| canary");
    obs.receivers.forEach((r, i) => lines.push(`  rcv_${i}${label(r.name, r.type)}`, `  am --> rcv_${i}`));
  }
  const mode = verificationModeOf(config.verification, config.environment);
  if (mode !== "off") {
    lines.push(`  verify${label(`verifier (${mode})`)}`);
    for (const m of config.models) lines.push(`  verify -.->|checks| m_${id(m.name)}`);
  }
  return lines.join("\n");
}

export const diagramSummary: SummarySection = (ctx) =>
  ["## Diagram", "", "```mermaid", stackDiagram(ctx), "```"].join("\n");
