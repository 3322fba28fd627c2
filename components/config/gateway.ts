import { z } from "zod";
import { DnsLabel, PositiveInt, type Environment } from "./common";

/**
 * The retrieval gateway (docs/gateway.md): one base URL for every model of the stack, with API keys, limits,
 * quotas, usage metrics, audit lines, aliases and an optional rerank cache. Pure schema: the cross-field rules
 * (aliases point at models of the right task, embedding switches that change dimensions) are in
 * components/validation/rules/gateway.ts.
 */

/** Per-key limits. Quotas are per UTC day; absent means unlimited. */
export const GatewayLimitsSchema = z.strictObject({
  /** Sustained requests per second (token bucket), per key, across every gateway replica. */
  requestsPerSecond: z.number().positive().max(100000).default(50),
  /** Requests accepted at once above the sustained rate. */
  burst: z.number().int().nonnegative().max(100000).default(100),
  /** Input tokens per UTC day, counted from the engines' own usage figures. */
  dailyInputTokens: PositiveInt.optional(),
  /** Rerank documents plus embedding inputs per UTC day. */
  dailyDocuments: PositiveInt.optional(),
});
export type GatewayLimits = z.infer<typeof GatewayLimitsSchema>;

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, {
  message:
    "must be the lowercase hex SHA-256 of the key (64 characters). Fix: printf %s \"$KEY\" | sha256sum | cut -d' ' -f1",
});

/**
 * A named API key. Only hashes are stored: the key itself never reaches config, state or the gateway. A name may
 * hold several hashes so that a key can be rotated (add the new one, move the clients, remove the old) without
 * losing its usage history and limits.
 */
export const GatewayKeySchema = z.strictObject({
  sha256: z.array(Sha256Hex).min(1).max(4).meta({
    description:
      "SHA-256 hex digests of the key (up to 4, so a key can be rotated without losing its usage and limits).",
  }),
  /** Overrides of the default limits for this key. */
  limits: GatewayLimitsSchema.partial().optional(),
});

/** One target of an alias; weights are relative (90 and 10 = 90 %/10 %). Only rerank aliases may have several. */
export const AliasTargetSchema = z.strictObject({
  model: DnsLabel.meta({ description: "A model of this stack (its `name`) that the alias sends calls to." }),
  weight: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(100)
    .meta({ description: "Relative share of the alias's calls (90 and 10 = 90 %/10 %); only rerank aliases split." }),
});

export const GatewayAliasSchema = z.strictObject({
  targets: z
    .array(AliasTargetSchema)
    .min(1)
    .max(8)
    .meta({ description: "The models the alias stands for (one for embeddings, up to 8 weighted for rerank)." }),
  /**
   * Embedding aliases: the vector size the callers' indexes hold. A switch to a model of other dimensions breaks
   * every index built with the old vectors, so it is refused until this is changed too (the confirmation, after a
   * re-index). Checked against the target's dims in rules/gateway.ts.
   */
  dimensions: PositiveInt.optional(),
});
export type GatewayAlias = z.infer<typeof GatewayAliasSchema>;

export const RerankCacheSchema = z.strictObject({
  /** Entries kept (least recently used dropped first). */
  maxEntries: PositiveInt.max(1_000_000).default(10000),
  /** How long an answer stays valid. */
  ttlSeconds: PositiveInt.max(86400).default(300),
});

export const GatewayJwtSchema = z.strictObject({
  /** `iss` the token must carry, e.g. "https://login.example.com/". */
  issuer: z.url(),
  /** `aud` the token must carry. */
  audience: z.string().min(1),
  /** The issuer's JSON Web Key Set, e.g. "https://login.example.com/.well-known/jwks.json". */
  jwksUrl: z.url(),
  /** Claim that names the caller (used as the key name for limits, metrics and audit). */
  identityClaim: z.string().min(1).default("sub"),
});

export const GatewayRedisSchema = z.strictObject({
  /**
   * deploy: a Redis in the cluster (the component's, official image); external: `url`; memory: no Redis, limits
   * per replica (exact only with one replica); auto: memory for one replica, deploy for more.
   */
  mode: z.enum(["auto", "deploy", "external", "memory"]).default("auto"),
  /** redis://host:port/db for mode external. */
  url: z
    .string()
    .regex(/^rediss?:\/\/[^\s]+$/, { message: 'must be a redis:// or rediss:// URL, e.g. "redis://redis:6379/0"' })
    .optional(),
  /**
   * When Redis cannot be reached: closed refuses requests with 503 (limits are never exceeded); open serves them
   * unlimited and counts retrieval_gateway_limit_fail_open_total (an alert fires).
   */
  onDown: z.enum(["fail-open", "fail-closed"]).default("fail-closed"),
});

export const GatewaySchema = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .meta({ description: "Deploy the retrieval gateway (one API for every model: /v1/embeddings, /v1/rerank)." }),
  /** Gateway replicas (at least 2 in staging and prod, spread over zones); the HPA may add up to maxReplicas. */
  replicas: PositiveInt.max(50).optional(),
  maxReplicas: PositiveInt.max(100).default(6).meta({ description: "Most gateway replicas the autoscaler may run." }),
  keys: z
    .record(DnsLabel, GatewayKeySchema)
    .default({})
    .meta({ description: "Named API keys of the gateway (hashes only), with optional per-key limits." }),
  limits: GatewayLimitsSchema.default(GatewayLimitsSchema.parse({})),
  /** Largest request body in bytes. */
  maxBodyBytes: PositiveInt.max(256 * 1024 * 1024).default(32 * 1024 * 1024),
  /** Most inputs of one embeddings call and documents of one rerank call, for every model. */
  maxInputs: PositiveInt.max(100000).default(2048),
  maxDocuments: PositiveInt.max(100000)
    .default(1000)
    .meta({ description: "Most documents of one rerank call, for every model." }),
  /** Budget of one upstream attempt, and attempts per request (a retry goes to another replica). */
  upstreamTimeoutSeconds: z.number().positive().max(3600).default(60),
  attempts: PositiveInt.max(5)
    .default(2)
    .meta({ description: "Attempts per request; a retry goes to another replica." }),
  breaker: z
    .strictObject({
      /** Consecutive failed requests (5xx, timeouts, refused) that open a model's breaker. */
      failures: PositiveInt.max(1000)
        .default(5)
        .meta({ description: "Consecutive failed requests (5xx, timeouts, refused) that open a model's breaker." }),
      /** How long it stays open before one trial request (half-open). */
      cooldownSeconds: z
        .number()
        .positive()
        .max(3600)
        .default(10)
        .meta({ description: "Seconds the breaker stays open before one trial request (half-open)." }),
    })
    .default({ failures: 5, cooldownSeconds: 10 })
    .meta({ description: "Per-model circuit breaker: stop calling a failing model for a while." }),
  /** Public names that stand for deployed models (versions, canaries, rollback). */
  aliases: z.record(DnsLabel, GatewayAliasSchema).default({}),
  /** Rerank cache per model name; models not listed are not cached. */
  rerankCache: z.record(DnsLabel, RerankCacheSchema).default({}),
  /**
   * The engine protocol the gateway speaks per model, when not the adapter's own (e.g. "kserve-v2" for a KServe
   * predictor with no OpenAI route). A dialect name of components/serving/dialects.
   */
  dialects: z.record(DnsLabel, z.string().min(1)).default({}),
  jwt: GatewayJwtSchema.optional().meta({ description: "Accept JWTs (issuer, audience, keys) besides API keys." }),
  redis: GatewayRedisSchema.default(GatewayRedisSchema.parse({})).meta({
    description: "Where limits and quotas are counted across replicas, and what to do when it is down.",
  }),
  /** A prebuilt gateway image (`registry/repo:tag` or digest); default: built from images/gateway by `pulumi up`. */
  image: z
    .string()
    .regex(/^[\w.\-/:@]+$/, { message: 'must be an image reference such as "ghcr.io/acme/retrieval-gateway:0.1.0"' })
    .refine((ref) => ref.includes("@") || !/:latest$|^[^:]+$/.test(ref.split("/").pop()!), {
      message: 'must name a fixed tag or digest, e.g. "ghcr.io/acme/retrieval-gateway:0.1.0" (not "latest" or no tag)',
    })
    .optional(),
  /** Serve the playground page at /playground; default on in local and dev, off in staging and prod. */
  playground: z.boolean().optional(),
});
export type GatewayConfig = z.infer<typeof GatewaySchema>;

/** Environments whose gateway serves the playground unless told otherwise (a test page has no place in prod). */
const PLAYGROUND_BY_DEFAULT: Readonly<Record<Environment, boolean>> = {
  local: true,
  dev: true,
  staging: false,
  prod: false,
};

export function playgroundEnabled(g: Pick<GatewayConfig, "playground">, environment: Environment): boolean {
  return g.playground ?? PLAYGROUND_BY_DEFAULT[environment];
}

/** Replicas: the configured count, else 2 where the environment needs a spare (minReplicasFloor), else 1. */
export function gatewayReplicas(g: Pick<GatewayConfig, "replicas">, minReplicasFloor: number): number {
  return g.replicas ?? Math.max(1, minReplicasFloor);
}

/** The Redis actually used: auto means memory for one replica, a deployed Redis for more. */
export function redisModeOf(g: Pick<GatewayConfig, "redis">, replicas: number): "deploy" | "external" | "memory" {
  if (g.redis.mode !== "auto") return g.redis.mode;
  return replicas > 1 ? "deploy" : "memory";
}
