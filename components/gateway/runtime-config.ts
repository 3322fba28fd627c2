/**
 * What the gateway server reads at start (a JSON file: the ConfigMap in the cluster, a temp file for
 * `npm run gateway`): the route table from the stack's models, aliases, key hashes, limits, Redis and JWT.
 * A leaf (zod and config schemas only, no @pulumi, no catalogue): the server bundle imports the schema; the Pulumi
 * component and scripts/gateway.ts build the value from the stack config with gatewayRuntimeConfig()
 * (runtime-config-from-stack.ts).
 */
import { z } from "zod";
import { GatewayLimitsSchema, RerankCacheSchema, GatewayJwtSchema } from "../config/gateway";

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
  /**
   * The model's Service, whose EndpointSlices name its ready pods (per-pod routing); absent: no discovery, the
   * upstreams are used as they are.
   */
  discovery: z
    .strictObject({ namespace: z.string().min(1), service: z.string().min(1), portName: z.string().min(1) })
    .optional(),
  /** Requests in flight per ready pod before the rest queue in the gateway (what the engine batches well). */
  maxInFlightPerPod: z.number().int().positive().optional(),
  /** Requests held while the model has no ready pod, and how long each may wait. Absent: no waiting. */
  wake: z.strictObject({ queueSize: z.number().int().min(0), maxWaitMs: z.number().int().positive() }).optional(),
});
export type RuntimeModel = z.infer<typeof RuntimeModelSchema>;

export const RuntimeKeySchema = z.strictObject({
  name: z.string().min(1),
  sha256: z.array(z.string().regex(/^[0-9a-f]{64}$/)).min(1),
  limits: GatewayLimitsSchema.partial().optional(),
  /**
   * The stack's own callers (post-deploy verification, quality canary): exempt from the customer limits and
   * quotas (`limits` then holds their own rate, sized to what they do), and counted apart.
   */
  internal: z.boolean().optional(),
  /** Models and aliases this key may call (others answer 404 as if absent); absent: every model. */
  models: z.array(z.string().min(1)).min(1).optional(),
});
export type RuntimeKey = z.infer<typeof RuntimeKeySchema>;

export const RuntimeConfigSchema = z.strictObject({
  models: z.array(RuntimeModelSchema).min(1),
  aliases: z
    .record(
      z.string(),
      z.strictObject({
        targets: z.array(z.strictObject({ model: z.string(), weight: z.number() })),
        shadow: z
          .strictObject({
            model: z.string(),
            sampleRate: z.number(),
            maxInFlight: z.number().int().positive(),
            timeoutMs: z.number().int().positive(),
          })
          .optional(),
        /** Serves the alias while its targets' breaker is open or they have no ready pod past the wake wait. */
        fallback: z.string().optional(),
      }),
    )
    .default({}),
  keys: z.array(RuntimeKeySchema).default([]),
  /** No key and no JWT configured: callers are "anonymous" (local runs only; cloud stacks always have keys). */
  allowAnonymous: z.boolean().default(false),
  limits: GatewayLimitsSchema,
  jwt: GatewayJwtSchema.optional(),
  /** Absent: limits kept in this process's memory. */
  redis: z.strictObject({
    url: z.string().optional(),
    onDown: z.enum(["fail-open", "fail-closed"]),
    /** fail-open keeps each key at limits / replicas in each replica's memory while the store is down. */
    replicas: z.number().int().positive().default(1),
  }),
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
  /** CIDRs of the proxies whose X-Forwarded-For is trusted (the ingress controller's pods), besides proxyDiscovery. */
  trustedProxies: z.array(z.string().min(1)).default([]),
  /**
   * The ingress controller's Service: every pod address its EndpointSlices list is a trusted proxy (read with the
   * same watch as the models' pods, a read-only Role in its namespace). Absent: only trustedProxies.
   */
  proxyDiscovery: z.strictObject({ namespace: z.string().min(1), service: z.string().min(1) }).optional(),
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
