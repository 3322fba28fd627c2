/**
 * The route table as a plain, self-contained nginx.conf: the same exact-match routes, engine-path rewrites,
 * API-key check (auth_request after limit_req, in that order, as NGINX Ingress Controller generates it), per-key
 * limit_req zones with 429, body size, timeouts and JSON error pages that the controller's VirtualServer and
 * Policies express. The tests run it through the real `nginx -t` and serve traffic with it; it also documents,
 * in NGINX's own terms, what the controller objects mean. Test-only inputs (upstream addresses, keys in clear):
 * never used to deploy anything.
 */
import { notFound, rateLimited, tooLarge, unauthorized, escapedBody, type EdgeResponse } from "./responses";
import { routeBodyLimit, type ModelRoute } from "./routes";
import { nextUpstream, controllerReplicaRate, rateLimitPolicySpec } from "./nginx-ingress/objects";

export interface NginxConfOptions {
  /** Loopback port the server listens on. */
  readonly listen: number;
  readonly serverName: string;
  /** host:port of each model's engine replicas (one or more), by model name. */
  readonly upstreams: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Controller replicas this nginx.conf is one of: each gets the share of the limits the controller derives from
   * the rateLimit Policy (`scale: true`), so N such servers together allow the configured rate.
   */
  readonly replicas: number;
  /** API keys; undefined = no authentication (local stack without keys). */
  readonly apiKeys?: readonly string[];
  /** Directory for the pid file, logs and temp files. */
  readonly prefix: string;
  readonly maxBodySize: string;
  readonly timeoutSeconds: number;
}

const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/ ]/g, "\\$&");
const zoneName = (model: string) => `rl_${model.replace(/-/g, "_")}`;
const upstreamName = (model: string) => `engine_${model.replace(/-/g, "_")}`;

function errorLocation(name: string, r: EdgeResponse): string {
  const headers = r.headers.map((h) => `      add_header ${h.name} ${quote(h.value)} always;`);
  return [
    `    location ${name} {`,
    "      default_type application/json;",
    ...headers,
    `      return ${r.status} "${escapedBody(r)}";`,
    "    }",
  ].join("\n");
}

export function renderNginxConf(routes: readonly ModelRoute[], o: NginxConfOptions): string {
  const auth = o.apiKeys !== undefined;
  const lines: string[] = [];
  const p = o.prefix.replace(/\/$/, "");
  lines.push(
    "worker_processes 1;",
    `pid ${p}/nginx.pid;`,
    `error_log ${p}/error.log warn;`,
    "events { worker_connections 256; }",
    "http {",
    "  access_log off;",
    "  server_tokens off;",
    `  client_body_temp_path ${p}/client_body;`,
    `  proxy_temp_path ${p}/proxy;`,
    `  fastcgi_temp_path ${p}/fastcgi;`,
    `  uwsgi_temp_path ${p}/uwsgi;`,
    `  scgi_temp_path ${p}/scgi;`,
    `  client_max_body_size ${o.maxBodySize};`,
    "  proxy_connect_timeout 10s;",
    `  proxy_read_timeout ${o.timeoutSeconds}s;`,
    `  proxy_send_timeout ${o.timeoutSeconds}s;`,
    "  limit_req_status 429;",
  );
  if (auth) {
    // The controller compares SHA-256 hashes of "Bearer <key>"; plain NGINX compares the header value itself.
    // Plain-string map keys match case-insensitively, so each key is an anchored case-sensitive regex instead.
    lines.push("  map $http_authorization $api_client {", '    default "";');
    o.apiKeys!.forEach((k, i) => lines.push(`    ${quote(`~^Bearer ${escapeRegex(k)}$`)} client-${i + 1};`));
    lines.push("  }");
  }
  const zones = new Map<string, { rate: string; burst: number }>();
  for (const r of routes) {
    const policy = rateLimitPolicySpec(r, auth, o.replicas).rateLimit as { rate: string; burst?: number };
    const zone = { rate: controllerReplicaRate(policy.rate, o.replicas), burst: policy.burst ?? 0 };
    zones.set(r.model, zone);
    lines.push(
      `  limit_req_zone ${auth ? "$http_authorization" : "$binary_remote_addr"} zone=${zoneName(r.model)}:10m rate=${zone.rate};`,
    );
    const target = o.upstreams[r.model];
    if (!target || target.length === 0) throw new Error(`renderNginxConf: no upstream address for model ${r.model}`);
    const servers = (typeof target === "string" ? [target] : target).map((t) => `server ${t};`).join(" ");
    lines.push(`  upstream ${upstreamName(r.model)} { ${servers} keepalive 8; }`);
  }
  lines.push(
    "  server {",
    `    listen 127.0.0.1:${o.listen};`,
    `    server_name ${o.serverName};`,
    "    default_type application/json;",
  );
  if (auth) {
    lines.push(
      "    location = /_validate_api_key {",
      "      internal;",
      '      if ($http_authorization = "") { return 401; }',
      '      if ($api_client = "") { return 403; }',
      "      return 204;",
      "    }",
    );
  }
  const next = nextUpstream(`${o.timeoutSeconds}s`);
  routes.forEach((r, i) => {
    const zoneBurst = zones.get(r.model)!.burst;
    const burst = zoneBurst > 0 ? ` burst=${zoneBurst}` : "";
    const bodyLimit = routeBodyLimit(r, o.maxBodySize);
    lines.push(
      `    location = ${r.publicPath} {`,
      `      client_max_body_size ${bodyLimit};`,
      `      limit_req zone=${zoneName(r.model)}${burst} nodelay;`,
      ...(auth ? ["      auth_request /_validate_api_key;", `      error_page 401 403 = @r${i}_401;`] : []),
      `      error_page 429 = @r${i}_429;`,
      `      error_page 413 = @r${i}_413;`,
      "      proxy_intercept_errors on;",
      `      proxy_next_upstream ${next["next-upstream"]};`,
      `      proxy_next_upstream_tries ${next["next-upstream-tries"]};`,
      `      proxy_next_upstream_timeout ${next["next-upstream-timeout"]};`,
      "      proxy_http_version 1.1;",
      '      proxy_set_header Connection "";',
      "      proxy_set_header Host $host;",
      '      proxy_set_header Authorization "";',
      `      proxy_pass http://${upstreamName(r.model)}${r.enginePath};`,
      "    }",
    );
    if (auth) lines.push(errorLocation(`@r${i}_401`, unauthorized()));
    lines.push(errorLocation(`@r${i}_429`, rateLimited(r.model)), errorLocation(`@r${i}_413`, tooLarge(bodyLimit)));
  });
  lines.push("    location / {", `      return 404 "${escapedBody(notFound())}";`, "    }", "  }", "}");
  return `${lines.join("\n")}\n`;
}
