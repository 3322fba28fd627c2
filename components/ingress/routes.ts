/**
 * The route table: for each model, the public path clients call and the engine path it is rewritten to, read
 * from the engine adapter's declared HTTP dialect (never from the engine's name). Pure: the controller module
 * renders it into its own objects, the plan summary lists it, and the tests render it into a plain nginx.conf.
 */
import type { Environment, Task } from "../config/common";
import type { IngressConfig, RateLimitConfig } from "../config/ingress";
import type { ModelConfig } from "../config/serving";
import { profileOf } from "../config/environments";
import { adapterFor } from "../serving/engines";
import { MODEL_SERVICE_PORT } from "./service-port";

/** Every model lives under /models/<name>/; nothing else on the host is routed. */
const PUBLIC_PREFIX = "/models";

/** The public endpoint per task (OpenAI-style paths, whatever the engine's own path is). */
const PUBLIC_ENDPOINTS: Readonly<Record<Task, string>> = {
  embed: "/v1/embeddings",
  rerank: "/v1/rerank",
};

/**
 * The gateway's public paths (docs/gateway.md): every /v1/ path, /rerank and /v2/rerank go to the gateway, which
 * checks keys itself (it needs the caller's identity for limits and usage), so NGINX adds only its coarse
 * per-client-address limit there. The per-model routes below stay, key-checked by NGINX.
 */
/** What the gateway answers: the API (/v1/*, /rerank, /v2/rerank) and the playground page with its assets. */
export const GATEWAY_PATHS = { prefixes: ["/v1/", "/playground"], exact: ["/rerank", "/v2/rerank"] } as const;

export interface GatewayRoute {
  /**
   * The gateway's Service. With `namespace` (the gateway's own, not the route table's) the controller reaches it
   * through route objects in that namespace (components/ingress/nginx-ingress/objects.ts).
   */
  readonly service: { readonly name: string; readonly port: number; readonly namespace?: string };
  /** Per client address: a coarse guard in front of the gateway's exact per-key limits. */
  readonly rateLimit: RateLimitConfig;
}

/** The coarse per-address limit: ten times the per-key default (many callers may share one NAT address). */
export function gatewayRoute(
  service: GatewayRoute["service"],
  ingress: Pick<IngressConfig, "rateLimit">,
): GatewayRoute {
  const { requestsPerSecond, burst } = ingress.rateLimit;
  return { service, rateLimit: { requestsPerSecond: requestsPerSecond * 10, burst: burst * 10 } };
}

/** Host the local stack answers on when ingress.host is not set (curl via `kubectl port-forward`). */
const LOCAL_HOST = "localhost";

export interface ModelRoute {
  readonly model: string;
  readonly task: Task;
  /** Exact public path, e.g. /models/bge-large-zh/v1/embeddings. */
  readonly publicPath: string;
  /** The engine's own path for this task, from its dialect, e.g. /openai/v1/embeddings. */
  readonly enginePath: string;
  /** The engine's Service: name = model name, in the models namespace. */
  readonly service: { readonly name: string; readonly port: number };
  readonly rateLimit: RateLimitConfig;
  /** The engine's own request-body limit in bytes, from its adapter; undefined when it has none below ours. */
  readonly engineMaxRequestBytes?: number;
}

interface RouteProblem {
  /** Config path of the offending value, relative to the stack config. */
  readonly path: readonly PropertyKey[];
  readonly value: unknown;
  readonly message: string;
}

/** A path NGINX can take verbatim in a location/rewrite: no spaces, quotes, braces, `;` or `$` variables. */
const SAFE_PATH = /^\/[A-Za-z0-9._~\-/:@%+=,]*$/;

/** Routes of every model plus the problems that make a route impossible (reported as config errors). */
export function planRoutes(
  models: readonly ModelConfig[],
  ingress: Pick<IngressConfig, "rateLimit" | "modelRateLimits">,
): { routes: ModelRoute[]; problems: RouteProblem[] } {
  const routes: ModelRoute[] = [];
  const problems: RouteProblem[] = [];
  const owner = new Map<string, number>();
  models.forEach((m, i) => {
    const adapter = adapterFor(m.engine);
    const dialect = adapter.dialect;
    const endpoint = m.task === "embed" ? dialect.embed : dialect.rerank;
    if (!endpoint) {
      problems.push({
        path: ["models", i, "task"],
        value: m.task,
        message: `engine ${m.engine} declares no ${m.task} endpoint in its HTTP dialect, so the ingress has nothing to route /models/${m.name}${PUBLIC_ENDPOINTS[m.task]} to. Fix: pick an engine that serves ${m.task} (docs/serving.md).`,
      });
      return;
    }
    const enginePath = endpoint.path(m.name);
    if (!SAFE_PATH.test(enginePath)) {
      problems.push({
        path: ["models", i, "engine"],
        value: m.engine,
        message: `its dialect maps ${m.task} to ${JSON.stringify(enginePath)}, which is not a plain URL path NGINX can rewrite to. Fix the dialect in components/serving/dialects/.`,
      });
      return;
    }
    const publicPath = `${PUBLIC_PREFIX}/${m.name}${PUBLIC_ENDPOINTS[m.task]}`;
    const prev = owner.get(publicPath);
    if (prev !== undefined) {
      problems.push({
        path: ["models", i, "name"],
        value: m.name,
        message: `routes to ${publicPath}, which models[${prev}] already uses. Fix: give each model its own name.`,
      });
      return;
    }
    owner.set(publicPath, i);
    routes.push({
      model: m.name,
      task: m.task,
      publicPath,
      enginePath,
      service: { name: m.name, port: MODEL_SERVICE_PORT },
      rateLimit: ingress.modelRateLimits[m.name] ?? ingress.rateLimit,
      ...(adapter.maxRequestBytes !== undefined ? { engineMaxRequestBytes: adapter.maxRequestBytes } : {}),
    });
  });
  return { routes, problems };
}

/** The route table; throws when a model cannot be routed (the config rules report the same problems earlier). */
export function routeTable(
  models: readonly ModelConfig[],
  ingress: Pick<IngressConfig, "rateLimit" | "modelRateLimits">,
): ModelRoute[] {
  const { routes, problems } = planRoutes(models, ingress);
  if (problems.length) throw new Error(`cannot route every model: ${problems.map((p) => p.message).join("; ")}`);
  return routes;
}

/** The host the entry point answers on. */
export function publicHost(ingress: Pick<IngressConfig, "host">): string {
  return ingress.host ?? LOCAL_HOST;
}

/** Scheme + host (+ the port-forward port locally) that clients call. */
export function publicBaseUrl(environment: Environment, ingress: Pick<IngressConfig, "host" | "tls">): string {
  const scheme = ingress.tls.mode === "none" ? "http" : "https";
  // The local stack is reached through `kubectl port-forward ... 8080:80` (docs/ingress.md).
  const port = !profileOf(environment).cloud && !ingress.host ? `:${LOCAL_PORT_FORWARD}` : "";
  return `${scheme}://${publicHost(ingress)}${port}`;
}

/** Local port the README's port-forward command uses. */
const LOCAL_PORT_FORWARD = 8080;

/**
 * NGINX rate syntax: whole requests per second, else per minute (limit_req_zone rate=).
 * 50 -> "50r/s", 0.5 -> "30r/m".
 */
export function nginxRate(requestsPerSecond: number): string {
  if (Number.isInteger(requestsPerSecond)) return `${requestsPerSecond}r/s`;
  return `${Math.max(1, Math.round(requestsPerSecond * 60))}r/m`;
}

/** Bytes of an NGINX size ("64k", "32m", "2000000"): k and m are 1024 and 1024 x 1024, as NGINX reads them. */
export function nginxSizeBytes(size: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(size);
  if (!m) throw new Error(`not an NGINX size: ${JSON.stringify(size)}`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * unit;
}

/**
 * The body limit of one route (NGINX size): the ingress's maxBodySize, or the engine's own limit when that is
 * smaller. Then NGINX refuses what the engine would refuse, and the client's 413 names the limit that applies
 * instead of a larger one the engine never honoured (e.g. TEI's 2 MB behind a 32 MB ingress limit).
 */
export function routeBodyLimit(route: Pick<ModelRoute, "engineMaxRequestBytes">, maxBodySize: string): string {
  const engine = route.engineMaxRequestBytes;
  return engine !== undefined && engine < nginxSizeBytes(maxBodySize) ? String(engine) : maxBodySize;
}
