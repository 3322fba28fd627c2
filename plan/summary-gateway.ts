import type { SummarySection } from "./summary";
import { gatewayReplicas, playgroundEnabled, redisModeOf } from "../components/config/gateway";
import { profileOf } from "../components/config/environments";
import { publicBaseUrl } from "../components/ingress/routes";
import { GATEWAY_SERVICE, REDIS_IMAGE } from "../components/gateway/gateway";
import type { RuntimeConfig } from "../components/gateway/runtime-config";
import { inFlightPerPod } from "../components/gateway/runtime-config-from-stack";
import { LIMIT_STORE } from "../components/cluster/limit-store-spec";

const DOCS = ["Scrapy is a crawling framework.", "asyncio with aiohttp sends concurrent requests."];

/** A ready call per model: curl for every model, the official OpenAI client for embedding models. */
function calls(base: string, m: RuntimeConfig["models"][number]): string[] {
  if (m.task === "embed")
    return [
      `curl -s ${base}/v1/embeddings -H "Authorization: Bearer $RETRIEVAL_API_KEY" -H 'content-type: application/json' -d '{"model": "${m.name}", "input": ["你好", "hello"]}'`,
      `python -c 'from openai import OpenAI; print(len(OpenAI(base_url="${base}/v1", api_key="'$RETRIEVAL_API_KEY'").embeddings.create(model="${m.name}", input="hello").data[0].embedding))'`,
    ];
  return [
    `curl -s ${base}/v1/rerank -H "Authorization: Bearer $RETRIEVAL_API_KEY" -H 'content-type: application/json' -d '{"model": "${m.name}", "query": "concurrent HTTP in Python", "documents": ${JSON.stringify(DOCS)}, "top_n": 1}'`,
  ];
}

/** The rendered Namespace's enforced Pod Security level and pinned version, as the API server will read them. */
function nsLevel(
  objects: readonly { kind?: string; metadata?: { name?: string; labels?: Record<string, string> } }[],
  name: string,
): string {
  const labels = objects.find((o) => o.kind === "Namespace" && o.metadata?.name === name)?.metadata?.labels ?? {};
  const level = labels["pod-security.kubernetes.io/enforce"];
  const version = labels["pod-security.kubernetes.io/enforce-version"];
  return level ? `**${level}** enforced${version ? ` at ${version}` : ""}` : "not created by this program";
}

/** plan.md "Gateway": the one URL, how it is deployed, and a call per model (docs/gateway.md). */
export const gatewaySummary: SummarySection = ({ config, plan }) => {
  const g = config.gateway;
  if (!g.enabled)
    return "## Gateway\n\n- **off** (`gateway.enabled: false`): clients call each model's route under /models/<name>/.";
  const cm = plan.objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === GATEWAY_SERVICE) as
    { data?: Record<string, string> } | undefined;
  const runtime = cm?.data?.["config.json"] ? (JSON.parse(cm.data["config.json"]) as RuntimeConfig) : undefined;
  const base = config.ingress.enabled ? publicBaseUrl(config.environment, config.ingress) : "(no ingress)";
  const replicas = gatewayReplicas(g, profileOf(config.environment).minReplicasFloor);
  const redis = redisModeOf(g, replicas);
  const lines = [
    "## Gateway",
    "",
    `- One base URL for every model: **${base}** (OpenAI clients: \`${base}/v1\`; Cohere/Jina rerank: \`${base}/v2/rerank\`, \`${base}/v1/rerank\`). Keys are checked by the gateway; \`export RETRIEVAL_API_KEY=<one of apiKeys>\`.`,
    `- ${replicas} replica(s)${replicas > 1 ? " spread over zones, PDB" : ""}, up to ${Math.max(replicas, g.maxReplicas)} (${config.observability.enabled ? "KEDA on request rate and in-flight requests" : "HPA on CPU"}); limits ${redis === "deploy" ? (config.cluster.mode === "eks" ? `in ElastiCache (${LIMIT_STORE.engine} ${LIMIT_STORE.engineVersion}, ${LIMIT_STORE.nodes} x ${LIMIT_STORE.nodeType}, Multi-AZ failover, TLS, AUTH token; cost under "Gateway limit store")` : `in Redis (\`${REDIS_IMAGE}\`, in the cluster, append-only file on a PVC)`) : redis === "external" ? "in an external Redis" : "in memory (one replica)"}, store down: ${g.redis.onDown === "fail-open" ? "fail-open (per-replica limits in memory)" : "fail-closed (503)"}.`,
    `- Namespace \`${g.namespace}\` (the gateway${redis === "deploy" && config.cluster.mode !== "eks" ? ", its Redis" : ""}${config.observability.enabled && config.observability.canary.enabled ? ", the quality canary" : ""}): Pod Security ${nsLevel(plan.objects, g.namespace)}; the engines stay in their own (docs/gateway.md#namespaces).`,
    `- Default limits per key: ${g.limits.requestsPerSecond} req/s, burst ${g.limits.burst}${g.limits.dailyInputTokens ? `, ${g.limits.dailyInputTokens} input tokens/day` : ""}${g.limits.dailyDocuments ? `, ${g.limits.dailyDocuments} documents/day` : ""}; named keys: ${Object.keys(g.keys).length ? Object.keys(g.keys).join(", ") : "none"} (plus secrets.apiKeys as api-key-N)${g.jwt ? `; JWT from ${g.jwt.issuer}` : ""}. Playground: ${playgroundEnabled(g, config.environment) ? `${base}/playground` : "off"}.`,
  ];
  const aliases = Object.entries(g.aliases);
  if (aliases.length)
    lines.push(
      `- Aliases: ${aliases.map(([n, a]) => `\`${n}\` -> ${a.targets.map((t) => (a.targets.length > 1 ? `${t.model} ${t.weight}` : t.model)).join(" / ")}`).join("; ")}.`,
    );
  // Fair admission per pod (docs/gateway.md): the figure and where it comes from (the engine's adapter or config).
  lines.push(
    `- Fair admission, sequences in flight per ready pod: ${config.models
      .map((m) => {
        const f = inFlightPerPod(m, config);
        return `\`${m.name}\` ${f.value} (${f.source})`;
      })
      .join("; ")}.`,
    `- Client addresses for failed-auth throttling: X-Forwarded-For trusted from ${
      [
        ...(runtime?.proxyDiscovery
          ? [
              `the ingress controller's pods (EndpointSlices of ${runtime.proxyDiscovery.namespace}/${runtime.proxyDiscovery.service})`,
            ]
          : []),
        ...(g.trustedProxies.length ? [g.trustedProxies.join(", ")] : []),
      ].join(" and ") || "no proxy (each peer is the client)"
    }.`,
  );
  lines.push("", "| model | task | dialect | call |", "| --- | --- | --- | --- |");
  for (const m of runtime?.models ?? [])
    lines.push(
      `| \`${m.name}\` | ${m.task} | ${m.dialect} | ${calls(base, m)
        .map((c) => `\`${c.replace(/\|/g, "\\|")}\``)
        .join("<br>")} |`,
    );
  return lines.join("\n");
};
