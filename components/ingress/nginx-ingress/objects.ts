/**
 * The NGINX Ingress Controller objects that publish the route table: one VirtualServer (host, TLS, one exact-match
 * route per model rewritten to the engine's path), an apiKey Policy and one rateLimit Policy per model.
 * Field names from pkg/apis/configuration/v1/types.go and the Policy reference (docs.nginx.com, read 2026-11).
 * Pure builders: the driver turns them into resources, the tests read them.
 */
import { edgePage, escapedBody, notFound, rateLimited, tooLarge, unauthorized, type EdgeResponse } from "../responses";
import { GATEWAY_PATHS, nginxRate, routeBodyLimit, type GatewayRoute, type ModelRoute } from "../routes";
import { INGRESS_CLASS } from "./chart";
import type { RouteLimits } from "../driver";

export const VIRTUAL_SERVER_NAME = "retrieval-api";
export const API_KEY_POLICY = "api-key";
export const API_KEY_SECRET = "retrieval-api-keys";
/** Header the keys arrive in; the whole value ("Bearer <key>") is what the controller compares. */
const API_KEY_HEADER = "Authorization";
/** Limit per API key (the full Authorization value); per client address when auth is off (local only). */
const PER_KEY = "${http_authorization}";
const PER_IP = "${binary_remote_addr}";

export const rateLimitPolicyName = (model: string) => `rate-limit-${model}`;
/** The gateway route's per-address limit policy, and its upstream name. */
export const GATEWAY_RATE_LIMIT_POLICY = "rate-limit-gateway";
const GATEWAY_UPSTREAM = "gateway";

/**
 * Secret of type nginx.org/apikey: client name -> key. The controller compares the SHA-256 of the whole header
 * value with the SHA-256 of each entry, so each entry is stored as the header value: "Bearer <key>".
 * Client names are positional so that they never reveal a key.
 */
export function apiKeySecretData(keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k, i) => [`client-${i + 1}`, `Bearer ${k}`]));
}

export function apiKeyPolicySpec(): Record<string, unknown> {
  return {
    ingressClassName: INGRESS_CLASS,
    apiKey: { suppliedIn: { header: [API_KEY_HEADER] }, clientSecret: API_KEY_SECRET },
  };
}

/**
 * The zone rate the controller writes into each replica's nginx.conf for a Policy with `scale: true`: the whole
 * part of rate / ready controller pods, moved to r/m when that is below 1 r/s (our reading of scaleRatelimit in
 * internal/configs/ingress.go, nginx/kubernetes-ingress v5.4.1 = chart 2.5.1, read 2026-12-01, unchanged in v5.5.4; the pod count is
 * that of the controller Service's ready endpoints). Burst is not scaled by the controller.
 */
export function controllerReplicaRate(rate: string, replicas: number): string {
  const m = /^(\d+)r\/([sm])$/.exec(rate);
  if (!m || replicas < 1) return rate;
  let share = Number(m[1]) / replicas;
  let unit = m[2];
  if (unit === "s" && share < 1) {
    share *= 60;
    unit = "m";
  }
  return `${Math.trunc(share)}r/${unit}`;
}

/** Requests per second a zone rate allows. */
const perSecond = (rate: string) => {
  const m = /^(\d+)r\/([sm])$/.exec(rate)!;
  return Number(m[1]) / (m[2] === "s" ? 1 : 60);
};

/**
 * The Policy's rate for `replicas` controller pods: r/s when the controller's integer division leaves every
 * replica an exact share, else per minute (finer, so the shares add up to the configured rate: 7 r/s over two
 * replicas is 420r/m -> 210r/m each, where 7r/s would give 3r/s each).
 */
function policyRate(requestsPerSecond: number, replicas: number): string {
  const exact = (rate: string) => perSecond(controllerReplicaRate(rate, replicas)) * replicas === perSecond(rate);
  const candidate = nginxRate(requestsPerSecond);
  return exact(candidate) ? candidate : `${Math.max(1, Math.round(requestsPerSecond * 60))}r/m`;
}

/**
 * Each replica's share of the burst: NGINX counts a zone per controller pod and the controller divides only the
 * rate (`scale`), so the burst is divided here (rounded up: a configured burst is never cut to zero).
 */
function replicaBurst(burst: number, replicas: number): number {
  return burst > 0 ? Math.ceil(burst / Math.max(1, replicas)) : 0;
}

/**
 * One rateLimit Policy per model. NGINX counts requests per controller pod, so with N replicas behind the NLB a key
 * would get N times its limit: `scale: true` makes the controller divide the rate by the number of ready pods
 * (docs: "Enables a constant rate-limit by dividing the configured rate by the number of nginx-ingress pods"), and
 * the burst is divided here. It assumes a key's requests spread evenly over the pods; one long-lived keep-alive
 * connection stays on one pod and then gets only its share (docs/security.md, "Rate limits").
 * @param replicas controller replicas (controllerReplicas); only the burst share depends on it
 */
export function rateLimitPolicySpec(
  route: Pick<ModelRoute, "rateLimit">,
  perKey: boolean,
  replicas: number,
): Record<string, unknown> {
  const { requestsPerSecond } = route.rateLimit;
  const burst = replicaBurst(route.rateLimit.burst, replicas);
  return {
    ingressClassName: INGRESS_CLASS,
    rateLimit: {
      rate: policyRate(requestsPerSecond, replicas),
      scale: true,
      key: perKey ? PER_KEY : PER_IP,
      // The controller accepts only a positive burst; 0 means "none", so the field is left out.
      ...(burst > 0 ? { burst } : {}),
      // Burst requests are served at once, excess is refused at once (no hidden queueing in front of a GPU).
      noDelay: true,
      zoneSize: "10m",
      rejectCode: 429,
      logLevel: "warn",
    },
  };
}

/**
 * What the controller pods enforce on one route, together: each pod counts its own zone at its share of the rate
 * (controllerReplicaRate of the Policy's rate) with its share of the burst, so a key gets at most the sum. The
 * post-deploy checks burst past this sum on the public path and must then see the route's 429 page.
 */
export function enforcedRouteLimit(
  route: Pick<ModelRoute, "model" | "rateLimit">,
  perKey: boolean,
  replicas: number,
): NonNullable<RouteLimits["rateLimit"]> {
  const pods = Math.max(1, replicas);
  const rate = controllerReplicaRate(policyRate(route.rateLimit.requestsPerSecond, pods), pods);
  return {
    requestsPerSecond: perSecond(rate) * pods,
    burst: replicaBurst(route.rateLimit.burst, pods) * pods,
    replicas: pods,
    perKey,
    page: edgePage(rateLimited(route.model)),
  };
}

function errorPage(r: EdgeResponse): Record<string, unknown> {
  return {
    codes: [...r.codes],
    return: {
      code: r.status,
      type: "application/json",
      body: escapedBody(r),
      headers: r.headers.map((h) => ({ ...h })),
    },
  };
}

/**
 * Retries on another replica. NGINX never passes a POST on to the next server once it was sent, unless
 * `non_idempotent` is listed (ngx_http_upstream_next: POST/LOCK/PATCH with request_sent add
 * NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT; nginx/nginx, read 2026-12-01), so "error timeout" alone retried only
 * connection failures. Embed and rerank calls change nothing, so replaying them is safe: a replica that resets the
 * connection (pod killed mid-request) is retried once on another. `next-upstream-timeout` = the read timeout, so a
 * request that already waited the whole read timeout is answered 504 rather than sent to a second GPU. The
 * controller accepts `non_idempotent` in next-upstream (pkg/apis/configuration/validation/virtualserver.go
 * validNextUpstreamParams, v5.4.1 and v5.5.4).
 */
export const nextUpstream = (timeout: string) =>
  ({
    "next-upstream": "error timeout non_idempotent",
    "next-upstream-tries": 2,
    "next-upstream-timeout": timeout,
  }) as const;

interface VirtualServerInput {
  readonly host: string;
  readonly routes: readonly ModelRoute[];
  readonly gateway?: GatewayRoute;
  readonly tlsSecretName: string | undefined;
  readonly forceHttps: boolean;
  readonly auth: boolean;
  readonly maxBodySize: string;
  readonly timeoutSeconds: number;
}

export function virtualServerSpec(v: VirtualServerInput): Record<string, unknown> {
  const timeout = `${v.timeoutSeconds}s`;
  return {
    ingressClassName: INGRESS_CLASS,
    host: v.host,
    ...(v.tlsSecretName
      ? {
          tls: {
            secret: v.tlsSecretName,
            ...(v.forceHttps ? { redirect: { enable: true, code: 308, basedOn: "scheme" } } : {}),
          },
        }
      : {}),
    upstreams: [
      ...v.routes.map((r) => ({
        name: r.model,
        service: r.service.name,
        port: r.service.port,
        "connect-timeout": "10s",
        "read-timeout": timeout,
        "send-timeout": timeout,
        // The smaller of ours and the engine's own limit: NGINX refuses what the engine would, with the real limit.
        "client-max-body-size": routeBodyLimit(r, v.maxBodySize),
        ...nextUpstream(timeout),
      })),
      ...(v.gateway && !v.gateway.service.namespace ? [gatewayUpstream(v.gateway, v.maxBodySize, timeout)] : []),
    ],
    routes: [
      ...v.routes.map((r) => ({
        // Exact match: /models/<name>/v1/embeddings and nothing below it (no engine health or metrics paths).
        path: `=${r.publicPath}`,
        policies: [...(v.auth ? [{ name: API_KEY_POLICY }] : []), { name: rateLimitPolicyName(r.model) }],
        action: {
          proxy: {
            upstream: r.model,
            rewritePath: r.enginePath,
            // The client's key stops at the edge; engines never see it.
            requestHeaders: { pass: true, set: [{ name: API_KEY_HEADER, value: "" }] },
          },
        },
        errorPages: [
          ...(v.auth ? [errorPage(unauthorized())] : []),
          errorPage(rateLimited(r.model)),
          errorPage(tooLarge(routeBodyLimit(r, v.maxBodySize))),
        ],
      })),
      ...(v.gateway
        ? v.gateway.service.namespace
          ? delegatedGatewayRoutes(v.gateway.service.namespace)
          : GATEWAY_ROUTE_PATHS.map((p) => gatewayLocation(p, v.maxBodySize))
        : []),
      // Everything else on the host: a JSON 404, never an engine.
      { path: "/", action: { return: { code: 404, type: "application/json", body: escapedBody(notFound()) } } },
    ],
  };
}

function gatewayUpstream(g: GatewayRoute, maxBodySize: string, timeout: string): Record<string, unknown> {
  return {
    name: GATEWAY_UPSTREAM,
    // Always a Service of the route object's own namespace: the controller (v5.5.4) accepts "namespace/service"
    // here but does not follow that Service's endpoint changes (see gatewayVirtualServerRoutes).
    service: g.service.name,
    port: g.service.port,
    "connect-timeout": "10s",
    "read-timeout": timeout,
    "send-timeout": timeout,
    "client-max-body-size": maxBodySize,
    // Only connection failures move to another gateway pod: a request that reached one has been counted against
    // the caller's quota there, and that pod retries engine replicas itself.
    "next-upstream": "error timeout",
    "next-upstream-tries": 2,
  };
}

/**
 * /v1/* and /playground (prefixes), /rerank and /v2/rerank to the gateway, Authorization passed through (the gateway checks the
 * key). Only the body-size page is NGINX's: the gateway's own 429 carries the right Retry-After (a daily quota
 * is not "retry in 1 s"), so no 429 page intercepts it.
 */
const gatewayLocation = (path: string, maxBodySize: string): Record<string, unknown> => ({
  path,
  policies: [{ name: GATEWAY_RATE_LIMIT_POLICY }],
  action: { proxy: { upstream: GATEWAY_UPSTREAM } },
  errorPages: [errorPage(tooLarge(maxBodySize))],
});

/** The gateway's location paths as NGINX matches them: prefixes, then exact paths. */
export const GATEWAY_ROUTE_PATHS: readonly string[] = [
  ...GATEWAY_PATHS.prefixes,
  ...GATEWAY_PATHS.exact.map((p) => `=${p}`),
];

/** Name of the VirtualServerRoute that serves one gateway path: "/v1/" -> "retrieval-gateway-v1". */
export function gatewayRouteObjectName(path: string): string {
  return `${GATEWAY_ROUTE_PREFIX}-${path.replace(/^=/, "").split("/").filter(Boolean).join("-")}`;
}
const GATEWAY_ROUTE_PREFIX = "retrieval-gateway";

/** The VirtualServer's routes that hand each gateway path to its VirtualServerRoute in the gateway's namespace. */
function delegatedGatewayRoutes(namespace: string): Record<string, unknown>[] {
  return GATEWAY_ROUTE_PATHS.map((path) => ({ path, route: `${namespace}/${gatewayRouteObjectName(path)}` }));
}

/**
 * When the gateway runs in a namespace of its own, one VirtualServerRoute per gateway path in THAT namespace, each
 * with the gateway's Service as its upstream and the path as its one subroute (same path and match type as the
 * VirtualServer's route: an exact route may delegate to exactly one subroute of the same path, a prefix route to
 * subroutes under it, and several VirtualServer paths may share one route object only when all are regexes:
 * pkg/apis/configuration/validation/virtualserver.go validateVirtualServerRouteSubroutes, nginx/kubernetes-ingress
 * v5.5.4). Why not an upstream "namespace/service" in the VirtualServer: v5.5.4 accepts that form (PR #8453, since
 * v5.3.0) but only re-reads the endpoints of a VirtualServer's own-namespace Services when they change
 * (internal/k8s/reference_checkers.go IsReferencedByVirtualServer; fixed on main by PR #9676, 2026-07-16, in no
 * tag of the repository snapshot read 2026-12-07), so a gateway pod that restarts or scales would keep stale addresses in NGINX.
 * The rate-limit Policy the subroutes name lives beside them (a policy reference defaults to its object's namespace).
 */
export function gatewayVirtualServerRoutes(v: {
  readonly host: string;
  readonly gateway: GatewayRoute;
  readonly maxBodySize: string;
  readonly timeoutSeconds: number;
}): { name: string; spec: Record<string, unknown> }[] {
  const upstream = gatewayUpstream(v.gateway, v.maxBodySize, `${v.timeoutSeconds}s`);
  return GATEWAY_ROUTE_PATHS.map((path) => ({
    name: gatewayRouteObjectName(path),
    spec: {
      ingressClassName: INGRESS_CLASS,
      host: v.host,
      upstreams: [upstream],
      subroutes: [gatewayLocation(path, v.maxBodySize)],
    },
  }));
}
