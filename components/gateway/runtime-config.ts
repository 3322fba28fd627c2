/**
 * What the gateway server reads at start (a JSON file: the ConfigMap in the cluster, a temp file for
 * `npm run gateway`): the route table from the stack's models, aliases, key hashes, limits, Redis and JWT.
 * Pure (zod and config types, no @pulumi): the server bundle imports the schema, the Pulumi component and
 * scripts/gateway.ts build it from the stack config with gatewayRuntimeConfig().
 */
import { z } from "zod";
import type { PlatformConfig } from "../config/schema";
import type { ModelConfig } from "../config/serving";
import { GatewayLimitsSchema, RerankCacheSchema, GatewayJwtSchema, gatewayDrainSeconds } from "../config/gateway";
import { adapterFor } from "../serving/engines";
import { specOf } from "../validation/rules/models";
import { servedDims } from "../validation/rules/gateway";

export const RuntimeModelSchema = z.strictObject({
  /** The stack's model name: what callers put in `model`, and the name the engine serves. */
  name: z.string().min(1),
  task: z.enum(["embed", "rerank"]),
  /** A dialect name of components/serving/dialects. */
  dialect: z.string().min(1),
  /** Base URLs of the engine's replicas (a Service in the cluster; retries go to the next one). */
  upstreams: z.array(z.url()).min(1),
  dims: z.number().int().positive().optional(),
  matryoshka: z.boolean().default(false),
  maxTokens: z.number().int().positive(),
  /** `owned_by` in /v1/models: the engine. */
  ownedBy: z.string().min(1),
  cache: RerankCacheSchema.optional(),
});
export type RuntimeModel = z.infer<typeof RuntimeModelSchema>;

export const RuntimeKeySchema = z.strictObject({
  name: z.string().min(1),
  sha256: z.array(z.string().regex(/^[0-9a-f]{64}$/)).min(1),
  limits: GatewayLimitsSchema.partial().optional(),
  /** Models and aliases this key may call (others answer 404 as if absent); absent: every model. */
  models: z.array(z.string().min(1)).min(1).optional(),
});
export type RuntimeKey = z.infer<typeof RuntimeKeySchema>;

export const RuntimeConfigSchema = z.strictObject({
  models: z.array(RuntimeModelSchema).min(1),
  aliases: z
    .record(z.string(), z.strictObject({ targets: z.array(z.strictObject({ model: z.string(), weight: z.number() })) }))
    .default({}),
  keys: z.array(RuntimeKeySchema).default([]),
  /** No key and no JWT configured: callers are "anonymous" (local runs only; cloud stacks always have keys). */
  allowAnonymous: z.boolean().default(false),
  limits: GatewayLimitsSchema,
  jwt: GatewayJwtSchema.optional(),
  /** Absent: limits kept in this process's memory. */
  redis: z.strictObject({ url: z.string().optional(), onDown: z.enum(["fail-open", "fail-closed"]) }),
  maxBodyBytes: z.number().int().positive(),
  maxInputs: z.number().int().positive(),
  maxDocuments: z.number().int().positive(),
  upstreamTimeoutMs: z.number().int().positive(),
  attempts: z.number().int().positive(),
  breaker: z.strictObject({ failures: z.number().int().positive(), cooldownMs: z.number().int().positive() }),
  playground: z.boolean().default(false),
  /** Largest engine answer read for one call (a bigger one is cut and answered 502 upstream_invalid). */
  maxAnswerBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** Request and answer bytes buffered at once by this instance; above it new requests get 503 overloaded. */
  maxBytesInFlight: z
    .number()
    .int()
    .positive()
    .default(128 * 1024 * 1024),
  /** Client connections (docs/gateway.md, "Security and failure behaviour"). */
  connections: z
    .strictObject({
      headersTimeoutMs: z.number().int().positive().default(60_000),
      requestTimeoutMs: z.number().int().positive().default(300_000),
      keepAliveTimeoutMs: z.number().int().positive().default(75_000),
      maxConnections: z.number().int().positive().default(10_000),
      /** Open connections per client address that is not a trusted proxy. */
      maxPerClient: z.number().int().positive().default(256),
    })
    .default({
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 300_000,
      keepAliveTimeoutMs: 75_000,
      maxConnections: 10_000,
      maxPerClient: 256,
    }),
  /** CIDRs of the proxies whose X-Forwarded-For is trusted (the ingress controller's pods). */
  trustedProxies: z.array(z.string().min(1)).default([]),
  /** Failed authentications per client address per minute before they are answered 429 (valid keys pass). */
  authFailuresPerMinute: z.number().int().positive().default(30),
  /** /metrics is served on this port only (0: any free port); never on the callers' port. */
  metricsPort: z.number().int().min(0).max(65535).default(9090),
  /** How long SIGTERM waits for in-flight requests (the pod's terminationGracePeriodSeconds is derived from it). */
  drainTimeoutMs: z.number().int().positive().default(130_000),
  /**
   * cost.refuseOverBudget: refuse keys whose monthly GPU budget is spent (images/gateway/src/budget.ts), learnt from
   * the stack's Prometheus or a mounted file (docs/cost.md).
   */
  budgets: z
    .strictObject({
      prometheus: z.url().optional(),
      file: z.string().min(1).optional(),
      refreshMs: z.number().int().positive().default(60_000),
    })
    .refine((b) => !!b.prometheus !== !!b.file, { message: "give exactly one of prometheus or file" })
    .optional(),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
export type RuntimeConfigInput = z.input<typeof RuntimeConfigSchema>;

export interface RuntimeOptions {
  /** Base URLs per model name (default: the model's Service in the cluster). */
  readonly upstreams?: Readonly<Record<string, readonly string[]>>;
  /** Hashes of keys that are not in the gateway config (secrets.apiKeys, `--api-key`), with their names. */
  readonly extraKeys?: readonly { name: string; sha256: string }[];
  readonly redisUrl?: string;
  readonly playground: boolean;
  /** Where spent budgets are learnt, when cost.refuseOverBudget is on. */
  readonly budgets?: { readonly prometheus: string } | { readonly file: string };
}

/** A model's in-cluster Service URL (components/serving/model-service.ts names it after the model). */
export function serviceUrl(model: Pick<ModelConfig, "name">, namespace: string): string {
  return `http://${model.name}.${namespace}.svc.cluster.local`;
}

/** The runtime config of a stack's gateway. */
export function gatewayRuntimeConfig(
  config: Pick<PlatformConfig, "models" | "gateway">,
  namespace: string,
  options: RuntimeOptions,
): RuntimeConfig {
  const g = config.gateway;
  const models: RuntimeModel[] = config.models.map((m) => {
    const spec = specOf(m);
    return {
      name: m.name,
      task: m.task,
      dialect: g.dialects[m.name] ?? adapterFor(m.engine).dialect.name,
      upstreams: [...(options.upstreams?.[m.name] ?? [serviceUrl(m, namespace)])],
      ...(m.task === "embed" && servedDims(m) !== undefined ? { dims: servedDims(m) } : {}),
      matryoshka: spec?.matryoshka ?? false,
      maxTokens: m.maxModelLen ?? spec?.maxTokens ?? 512,
      ownedBy: m.engine,
      ...(g.rerankCache[m.name] ? { cache: g.rerankCache[m.name] } : {}),
    };
  });
  const keys = new Map<string, RuntimeKey>();
  for (const [name, k] of Object.entries(g.keys))
    keys.set(name, {
      name,
      sha256: [...k.sha256],
      ...(k.limits ? { limits: k.limits } : {}),
      ...(k.models ? { models: [...k.models] } : {}),
    });
  for (const k of options.extraKeys ?? []) {
    const prev = keys.get(k.name);
    keys.set(k.name, prev ? { ...prev, sha256: [...prev.sha256, k.sha256] } : { name: k.name, sha256: [k.sha256] });
  }
  return RuntimeConfigSchema.parse({
    models,
    aliases: Object.fromEntries(
      Object.entries(g.aliases).map(([n, a]) => [
        n,
        { targets: a.targets.map((t) => ({ model: t.model, weight: t.weight })) },
      ]),
    ),
    keys: [...keys.values()],
    allowAnonymous: keys.size === 0 && !g.jwt,
    limits: g.limits,
    ...(g.jwt ? { jwt: g.jwt } : {}),
    redis: { ...(options.redisUrl ? { url: options.redisUrl } : {}), onDown: g.redis.onDown },
    maxBodyBytes: g.maxBodyBytes,
    maxInputs: g.maxInputs,
    maxDocuments: g.maxDocuments,
    upstreamTimeoutMs: Math.round(g.upstreamTimeoutSeconds * 1000),
    attempts: g.attempts,
    breaker: { failures: g.breaker.failures, cooldownMs: Math.round(g.breaker.cooldownSeconds * 1000) },
    playground: options.playground,
    trustedProxies: [...g.trustedProxies],
    drainTimeoutMs: Math.round(gatewayDrainSeconds(g) * 1000),
    ...(options.budgets ? { budgets: options.budgets } : {}),
  });
}
