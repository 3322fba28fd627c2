/**
 * F5 NGINX Ingress Controller custom resources (group k8s.nginx.org, v1): VirtualServer, VirtualServerRoute and Policy.
 * Written from the project's Go API types (github.com/nginx/kubernetes-ingress pkg/apis/configuration/v1/types.go)
 * and its validators (pkg/apis/configuration/validation/{virtualserver,policy}.go), read 2026-11. Strict objects:
 * a misspelt field fails the plan instead of being dropped by the API server. Only what the controller's open
 * source edition accepts is modelled (no NGINX Plus-only fields such as jwt, oidc, waf or health checks).
 */
import { z } from "zod";

const Meta = z.looseObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/),
  namespace: z.string().min(1).optional(),
});
/** nginx time: "60s", "1m", "500ms". */
const Time = z.string().regex(/^\d+(ms|s|m|h|d)?$/, { message: 'must be an NGINX time such as "60s"' });
/** nginx size: "32m", "512k". */
const Size = z.string().regex(/^\d+[kKmMgG]?$/, { message: 'must be an NGINX size such as "32m"' });
/** A string NGINX reads inside double quotes: every `"` escaped, no trailing lone backslash. */
const Escaped = z.string().regex(/^([^"\\]|\\.)*$/, { message: "must escape every double quote with a backslash" });
const DnsLabel = z.string().regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
const PolicyRef = z.strictObject({ name: DnsLabel, namespace: DnsLabel.optional() });
const Header = z.strictObject({ name: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/), value: Escaped });
const RouteReturn = z.strictObject({
  code: z.number().int().min(200).max(599).optional(),
  type: z.string().optional(),
  body: Escaped.min(1),
  headers: z.array(Header).optional(),
});

const Upstream = z.strictObject({
  name: DnsLabel,
  service: DnsLabel,
  port: z.number().int().min(1).max(65535),
  "lb-method": z.string().optional(),
  "fail-timeout": Time.optional(),
  "max-fails": z.number().int().nonnegative().optional(),
  "max-conns": z.number().int().nonnegative().optional(),
  keepalive: z.number().int().nonnegative().optional(),
  "connect-timeout": Time.optional(),
  "read-timeout": Time.optional(),
  "send-timeout": Time.optional(),
  "next-upstream": z
    .string()
    .regex(
      /^(error|timeout|invalid_header|http_500|http_502|http_503|http_504|http_403|http_404|http_429|non_idempotent|off)( (error|timeout|invalid_header|http_500|http_502|http_503|http_504|http_403|http_404|http_429|non_idempotent|off))*$/,
    )
    .optional(),
  "next-upstream-timeout": Time.optional(),
  "next-upstream-tries": z.number().int().nonnegative().optional(),
  buffering: z.boolean().optional(),
  "buffer-size": Size.optional(),
  "client-max-body-size": Size.optional(),
  tls: z.strictObject({ enable: z.boolean() }).optional(),
  "use-cluster-ip": z.boolean().optional(),
  type: z.enum(["http", "grpc"]).optional(),
});

const Action = z
  .strictObject({
    pass: DnsLabel.optional(),
    redirect: z
      .strictObject({
        url: z.string().includes("://"),
        code: z.union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)]).optional(),
      })
      .optional(),
    return: RouteReturn.optional(),
    proxy: z
      .strictObject({
        upstream: DnsLabel,
        // validateActionProxyRewritePath: a plain path, `$` only before a digit.
        rewritePath: z
          .string()
          .regex(/^\/[^\s{};"]*$/)
          .refine((p) => !/\$[^0-9]/.test(p), { message: "`$` may only be followed by a digit" })
          .optional(),
        requestHeaders: z.strictObject({ pass: z.boolean().optional(), set: z.array(Header).optional() }).optional(),
        responseHeaders: z
          .strictObject({
            hide: z.array(z.string()).optional(),
            pass: z.array(z.string()).optional(),
            ignore: z.array(z.string()).optional(),
            add: z.array(Header.extend({ always: z.boolean().optional() })).optional(),
          })
          .optional(),
      })
      .optional(),
  })
  .refine((a) => [a.pass, a.redirect, a.return, a.proxy].filter((x) => x !== undefined).length === 1, {
    message: "action must specify exactly one of pass, redirect, return or proxy",
  });

const ErrorPage = z
  .strictObject({
    codes: z.array(z.number().int().min(300).max(599)).min(1),
    return: RouteReturn.optional(),
    redirect: z.strictObject({ url: z.string(), code: z.number().int().optional() }).optional(),
  })
  .refine((e) => (e.return === undefined) !== (e.redirect === undefined), {
    message: "errorPage needs exactly one of return or redirect",
  });

const Route = z.strictObject({
  path: z.string().regex(/^(\/|=\/|~\*? |\^~ ?\/)/, { message: "must start with /, =/, ~ or ^~" }),
  policies: z.array(PolicyRef).optional(),
  // A VirtualServerRoute: "name" in the VirtualServer's namespace or "namespace/name" (validateRouteField).
  route: z
    .string()
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .optional(),
  action: Action.optional(),
  errorPages: z.array(ErrorPage).optional(),
});

export const VirtualServerSchema = z.strictObject({
  apiVersion: z.literal("k8s.nginx.org/v1"),
  kind: z.literal("VirtualServer"),
  metadata: Meta,
  spec: z
    .strictObject({
      ingressClassName: z.string().optional(),
      host: z.string().regex(/^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
      tls: z
        .strictObject({
          secret: DnsLabel.optional(),
          redirect: z
            .strictObject({
              enable: z.boolean(),
              code: z.union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)]).optional(),
              basedOn: z.enum(["scheme", "x-forwarded-proto"]).optional(),
            })
            .optional(),
        })
        .optional(),
      gunzip: z.boolean().optional(),
      policies: z.array(PolicyRef).optional(),
      upstreams: z.array(Upstream).optional(),
      routes: z.array(Route).optional(),
    })
    .superRefine((spec, ctx) => checkRoutes(spec, spec.routes ?? [], "routes", ctx)),
});

/** Routes must name declared upstreams; paths are unique. */
function checkRoutes(
  spec: { upstreams?: { name: string }[] | undefined },
  routes: z.infer<typeof Route>[],
  at: string,
  ctx: z.RefinementCtx,
): void {
  const names = new Set((spec.upstreams ?? []).map((u) => u.name));
  const paths = new Set<string>();
  routes.forEach((r, i) => {
    if (paths.has(r.path))
      ctx.addIssue({ code: "custom", path: [at, i, "path"], message: `duplicate route path ${r.path}` });
    paths.add(r.path);
    const up = r.action?.proxy?.upstream ?? r.action?.pass;
    if (up !== undefined && !names.has(up))
      ctx.addIssue({ code: "custom", path: [at, i, "action"], message: `names upstream ${up}, which is not declared` });
  });
}

/**
 * VirtualServerRoute (pkg/apis/configuration/v1/types.go VirtualServerRouteSpec at v5.5.4: ingressClassName, host,
 * upstreams, subroutes). A subroute may not delegate again (`route` is forbidden in subroutes) and needs exactly
 * one of action or splits; only action is modelled here.
 */
export const VirtualServerRouteSchema = z.strictObject({
  apiVersion: z.literal("k8s.nginx.org/v1"),
  kind: z.literal("VirtualServerRoute"),
  metadata: Meta,
  spec: z
    .strictObject({
      ingressClassName: z.string().optional(),
      host: z.string().regex(/^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
      upstreams: z.array(Upstream).optional(),
      subroutes: z.array(Route.omit({ route: true }).extend({ action: Action })).min(1),
    })
    .superRefine((spec, ctx) => checkRoutes(spec, spec.subroutes, "subroutes", ctx)),
});

const RateLimit = z.strictObject({
  rate: z.string().regex(/^[1-9]\d*r\/[sm]$/, { message: 'must be a rate such as "10r/s" or "30r/m"' }),
  // OSS keys: $binary_remote_addr, $request_uri, $uri, $args and $http_*, $arg_*, $cookie_* (validateRateLimitKey).
  key: z.string().regex(/^(\$\{(binary_remote_addr|request_uri|uri|args|(http|arg|cookie)_[a-z0-9_]+)\}|[^$"])+$/, {
    message:
      "may only use $binary_remote_addr, $request_uri, $uri, $args, $http_*, $arg_* or $cookie_* in NGINX open source",
  }),
  delay: z.number().int().positive().optional(),
  noDelay: z.boolean().optional(),
  burst: z.number().int().positive().optional(),
  zoneSize: z.string().regex(/^(\d+[mM]|(3[2-9]|[4-9]\d|\d{3,})[kK])$/, { message: "must be at least 32k" }),
  dryRun: z.boolean().optional(),
  logLevel: z.enum(["info", "notice", "warn", "error"]).optional(),
  rejectCode: z.number().int().min(400).max(599).optional(),
  scale: z.boolean().optional(),
});

const ApiKey = z.strictObject({
  suppliedIn: z
    .strictObject({
      header: z.array(z.string().regex(/^[A-Za-z0-9-]+$/)).optional(),
      query: z.array(z.string()).optional(),
    })
    .refine((s) => (s.header?.length ?? 0) + (s.query?.length ?? 0) > 0, {
      message: "at least one header or query name",
    }),
  clientSecret: DnsLabel,
});

const AccessControl = z
  .strictObject({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional() })
  .refine((a) => (a.allow === undefined) !== (a.deny === undefined), { message: "exactly one of allow or deny" });

export const PolicySchema = z.strictObject({
  apiVersion: z.literal("k8s.nginx.org/v1"),
  kind: z.literal("Policy"),
  metadata: Meta,
  spec: z
    .strictObject({
      ingressClassName: z.string().optional(),
      accessControl: AccessControl.optional(),
      rateLimit: RateLimit.optional(),
      apiKey: ApiKey.optional(),
    })
    .refine((s) => [s.accessControl, s.rateLimit, s.apiKey].filter((x) => x !== undefined).length === 1, {
      message: "a Policy must define exactly one policy type",
    }),
});
