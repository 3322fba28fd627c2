/**
 * The NGINX Ingress Controller objects that publish the route table: one VirtualServer (host, TLS, one exact-match
 * route per model rewritten to the engine's path), an apiKey Policy and one rateLimit Policy per model.
 * Field names from pkg/apis/configuration/v1/types.go and the Policy reference (docs.nginx.com, read 2026-11).
 * Pure builders: the driver turns them into resources, the tests read them.
 */
import { escapedBody, notFound, rateLimited, tooLarge, unauthorized, type EdgeResponse } from "../responses";
import { GATEWAY_PATHS, nginxRate, type GatewayRoute, type ModelRoute } from "../routes";
import { INGRESS_CLASS } from "./chart";

export const VIRTUAL_SERVER_NAME = "retrieval-api";
export const API_KEY_POLICY = "api-key";
export const API_KEY_SECRET = "retrieval-api-keys";
/** Header the keys arrive in; the whole value ("Bearer <key>") is what the controller compares. */
export const API_KEY_HEADER = "Authorization";
/** Limit per API key (the full Authorization value); per client address when auth is off (local only). */
export const PER_KEY = "${http_authorization}";
export const PER_IP = "${binary_remote_addr}";

export const rateLimitPolicyName = (model: string) => `rate-limit-${model}`;
/** The gateway route's per-address limit policy, and its upstream name. */
export const GATEWAY_RATE_LIMIT_POLICY = "rate-limit-gateway";
export const GATEWAY_UPSTREAM = "gateway";

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

export function rateLimitPolicySpec(route: Pick<ModelRoute, "rateLimit">, perKey: boolean): Record<string, unknown> {
  const { requestsPerSecond, burst } = route.rateLimit;
  return {
    ingressClassName: INGRESS_CLASS,
    rateLimit: {
      rate: nginxRate(requestsPerSecond),
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

export interface VirtualServerInput {
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
        "client-max-body-size": v.maxBodySize,
        // Only connection failures move to another replica: a POST that reached an engine is not replayed.
        "next-upstream": "error timeout",
        "next-upstream-tries": 2,
      })),
      ...(v.gateway ? [gatewayUpstream(v.gateway, v, timeout)] : []),
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
          errorPage(tooLarge(v.maxBodySize)),
        ],
      })),
      ...(v.gateway ? gatewayRoutes(v.maxBodySize) : []),
      // Everything else on the host: a JSON 404, never an engine.
      { path: "/", action: { return: { code: 404, type: "application/json", body: escapedBody(notFound()) } } },
    ],
  };
}

function gatewayUpstream(g: GatewayRoute, v: VirtualServerInput, timeout: string): Record<string, unknown> {
  return {
    name: GATEWAY_UPSTREAM,
    service: g.service.name,
    port: g.service.port,
    "connect-timeout": "10s",
    "read-timeout": timeout,
    "send-timeout": timeout,
    "client-max-body-size": v.maxBodySize,
    "next-upstream": "error timeout",
    "next-upstream-tries": 2,
  };
}

/**
 * /v1/* (prefix), /rerank and /v2/rerank to the gateway, Authorization passed through (the gateway checks the
 * key). Only the body-size page is NGINX's: the gateway's own 429 carries the right Retry-After (a daily quota
 * is not "retry in 1 s"), so no 429 page intercepts it.
 */
function gatewayRoutes(maxBodySize: string): Record<string, unknown>[] {
  const route = (path: string) => ({
    path,
    policies: [{ name: GATEWAY_RATE_LIMIT_POLICY }],
    action: { proxy: { upstream: GATEWAY_UPSTREAM } },
    errorPages: [errorPage(tooLarge(maxBodySize))],
  });
  return [route(GATEWAY_PATHS.prefix), ...GATEWAY_PATHS.exact.map((p) => route(`=${p}`))];
}
