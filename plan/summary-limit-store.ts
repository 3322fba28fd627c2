import { limitStoreCost } from "../components/cluster/limit-store-spec";
import type { SummarySection } from "./summary";
import { markdownTable } from "./markdown";
import { usd } from "./cost";

const REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";

/**
 * plan.md "Gateway limit store": the ElastiCache replication group a cloud stack creates for the gateway's limit
 * counters (components/cluster/limit-store.ts), read from the plan's own resources, with its monthly cost from
 * the dated price table (components/cluster/limit-store-spec.ts ELASTICACHE_NODE_PRICES). Absent when the stack
 * creates none (local, existing clusters, a gateway that keeps its limits elsewhere).
 */
export const limitStoreSummary: SummarySection = ({ config, plan }) => {
  const groups = plan.resources.filter((r) => r.type === REPLICATION_GROUP);
  if (groups.length === 0 || config.cluster.mode !== "eks") return undefined;
  const region = config.cluster.region;
  const rows = groups.map((g) => {
    const i = g.inputs as { engine?: string; engineVersion?: string; nodeType?: string; numCacheClusters?: number };
    const cost = limitStoreCost(
      { engine: String(i.engine), nodeType: String(i.nodeType), nodes: Number(i.numCacheClusters ?? 1) },
      region,
    );
    const hourly = cost.price?.usdPerHour;
    return [
      `\`${g.name}\``,
      `${i.engine} ${i.engineVersion ?? ""}`.trim(),
      cost.nodeType,
      String(cost.nodes),
      region,
      hourly === undefined ? "not confirmed" : `$${hourly}`,
      cost.usdPerMonth === undefined ? "unknown (price not confirmed)" : usd(cost.usdPerMonth),
      `${cost.price?.source ?? "not in the price table"} (${cost.price?.checked ?? "never checked"})`,
    ];
  });
  return [
    "## Gateway limit store",
    "",
    "The gateway's shared limit counters: an ElastiCache replication group (primary + replica in another zone, Multi-AZ failover, TLS, AUTH token), billed per node-hour, on-demand, 730 h/month; not in the compute total above. Backup storage and data transfer may be billed on top (AWS ElastiCache pricing page).",
    "",
    markdownTable(
      [
        "replication group",
        "engine",
        "node type",
        "nodes",
        "region",
        "USD/hour per node",
        "USD/month",
        "price source (checked)",
      ],
      rows,
    ),
  ].join("\n");
};
