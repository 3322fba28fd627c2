import { profileOf } from "../components/config/environments";
import type { ModelConfig } from "../components/config";
import { controller } from "../components/ingress/controller";
import { serviceExposure } from "../components/ingress/exposure";
import { nginxRate, publicBaseUrl, routeTable, type ModelRoute } from "../components/ingress/routes";
import { adapterFor } from "../components/serving/engines";
import type { SummarySection } from "./summary";
import { markdownTable } from "./markdown";

const table = markdownTable;

/** The engine's own request body for a sample call, built by its dialect (the ingress passes bodies through). */
export function sampleBody(model: ModelConfig): unknown {
  const d = adapterFor(model.engine).dialect;
  if (model.task === "embed")
    return d.embed?.build({ model: model.name, inputs: ["What is retrieval-augmented generation?"] });
  return d.rerank?.build({
    model: model.name,
    query: "What is asyncio?",
    documents: ["asyncio is a library to write concurrent code in Python.", "Paris is the capital of France."],
  });
}

/** A curl call for one model through the public entry point, with the API key from the environment. */
export function curlFor(url: string, model: ModelConfig, auth: boolean): string {
  const key = auth ? ` -H "Authorization: Bearer $RETRIEVAL_API_KEY"` : "";
  return `curl -sS ${url}${key} -H 'Content-Type: application/json' -d '${JSON.stringify(sampleBody(model))}'`;
}

const limit = (r: ModelRoute) =>
  `${nginxRate(r.rateLimit.requestsPerSecond)}${r.rateLimit.burst ? ` + burst ${r.rateLimit.burst}` : ""}`;

/** plan.md "Public endpoints": the entry point, TLS, auth and one URL per model with its limit and a curl call. */
export const ingressSummary: SummarySection = ({ config, placeholders }) => {
  const { ingress, environment } = config;
  if (!ingress.enabled) return "## Public endpoints\n\n_ingress disabled (ingress.enabled: false)_";
  const routes = routeTable(config.models, ingress);
  const base = publicBaseUrl(environment, ingress);
  const exposure = serviceExposure(environment, ingress);
  const auth = config.secrets.apiKeys !== undefined || placeholders.includes("apiKeys");
  const tls =
    ingress.tls.mode === "none"
      ? "none (plain HTTP, local only)"
      : `${ingress.tls.mode}${profileOf(environment).forceHttps ? ", HTTP redirects to HTTPS (308)" : ", HTTP also served"}`;
  const lines = [
    "## Public endpoints",
    "",
    `- Controller: ${controller.displayName}, IngressClass \`${controller.ingressClass}\`; snippets off.`,
    exposure.type === "LoadBalancer"
      ? `- Exposure: AWS NLB, ${ingress.exposure}, sources ${exposure.loadBalancerSourceRanges.length ? exposure.loadBalancerSourceRanges.map((c) => `\`${c}\``).join(", ") : "any"}.`
      : "- Exposure: NodePort; from your machine `kubectl -n ingress port-forward svc/nginx-ingress-controller 8080:80`.",
    `- TLS: ${tls}.`,
    `- Auth: ${auth ? "`Authorization: Bearer <key>` (apiKeys); missing or wrong key: 401, never reaches an engine" : "none (no apiKeys set): limits are per client address"}. Limits per ${auth ? "key" : "client address"} and model; over the limit: 429 with Retry-After.`,
    `- Body size ≤ ${ingress.maxBodySize}; upstream timeout ${ingress.timeoutSeconds}s. Engine health and metrics paths are not published (404).`,
    "",
    table(
      ["model", "public URL", "engine path", "limit"],
      routes.map((r) => [`\`${r.model}\``, `${base}${r.publicPath}`, `\`${r.enginePath}\``, limit(r)]),
    ),
    "",
    "Sample calls (the body is the engine's own format: the entry point routes and rewrites paths, it does not translate bodies):",
    "",
    "```bash",
    ...routes.map((r) =>
      curlFor(
        `${base}${r.publicPath}`,
        config.models.find((m) => m.name === r.model)!,
        auth,
      ),
    ),
    "```",
  ];
  return lines.join("\n");
};
