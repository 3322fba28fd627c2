import { z } from "zod";
import { DnsLabel, PositiveInt, type Environment } from "./common";
import { ImageRef, safeString, safeUrl } from "./formats";
import { fixMessage } from "./errors";

/**
 * The retrieval gateway (docs/gateway.md): one base URL for every model of the stack, with API keys, limits,
 * quotas, usage metrics, audit lines, aliases and an optional rerank cache. Pure schema: the cross-field rules
 * (aliases point at models of the right task, embedding switches that change dimensions) are in
 * components/validation/rules/gateway.ts.
 */

/** Caller names the gateway uses itself (no key, a failed key, the metrics overflow): never a key's name. */
export const RESERVED_CALLER_NAMES: readonly string[] = ["anonymous", "unauthenticated", "other"];

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
  /**
   * The models and aliases this key may call; any other name answers 404 as if it did not exist, and GET
   * /v1/models lists only these. Absent: every model of the stack.
   */
  models: z.array(DnsLabel).min(1).max(100).optional(),
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
  /**
   * Embedding aliases: the model whose vectors the callers' indexes hold. A switch to another model (even at
   * equal dimensions) is refused until this names the new target too (the confirmation, after a re-index), unless
   * both load the same weights (model id, pinned revision, dimensions; only engine, engine version or dtype differ):
   * then the post-deploy verification compares the target's fingerprint with this model's recorded one and fails
   * the deploy on a mismatch (docs/model-changes.md). Checked in rules/gateway.ts and validation/alias-switch.ts.
   */
  indexedWith: DnsLabel.optional(),
  /**
   * Rerank aliases: a candidate model that gets a copy of sampled calls after the caller is answered; the gateway
   * compares its ranking with the primary's (docs/model-changes.md). Checked in rules/gateway.ts.
   */
  shadow: z
    .strictObject({
      model: DnsLabel.meta({ description: "The candidate rerank model (a model of this stack)." }),
      sampleRate: z
        .number()
        .gt(0)
        .max(1)
        .meta({ description: "Share of the alias' calls copied to the shadow, e.g. 0.1 for one in ten." }),
      maxInFlight: PositiveInt.max(256)
        .default(4)
        .meta({ description: "Copies running at once per gateway replica; more are dropped and counted (busy)." }),
      timeoutSeconds: z
        .number()
        .positive()
        .max(60)
        .default(5)
        .meta({ description: "A copy not answered within this is counted as timeout." }),
    })
    .optional(),
  /**
   * A model of the same task (embeddings: the same dimensions) that serves the alias while its targets' breaker is
   * open or they have no ready pod past the wake wait. Checked in rules/gateway.ts.
   */
  fallback: DnsLabel.optional(),
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
  issuer: safeUrl({ schemes: ["https", "http"], example: '"https://login.example.com/"' }),
  /** `aud` the token must carry. */
  audience: safeString(253).min(1),
  /** The issuer's JSON Web Key Set, e.g. "https://login.example.com/.well-known/jwks.json". */
  jwksUrl: safeUrl({ schemes: ["https", "http"], example: '"https://login.example.com/.well-known/jwks.json"' }),
  /**
   * Claim that names the caller. A token's caller is "jwt:<claim>", a principal of its own: it never shares limits
   * or quota with an API key of the same name.
   */
  identityClaim: safeString(253).min(1).default("sub"),
  /** Longest accepted token lifetime (exp minus iat, or exp minus now); a token without exp is refused. */
  maxLifetimeSeconds: PositiveInt.max(30 * 86400).default(86400),
  /**
   * A claim listing the models and aliases the token may call (a list of names or one space-separated string).
   * When set, a token without it is refused; absent: tokens may call every model.
   */
  modelsClaim: z.string().min(1).optional(),
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
   * When Redis cannot be reached: fail-open (the default, as Envoy's rate-limit service and Kong do) keeps
   * limiting in each replica's memory at the configured rate divided by the replicas, counts
   * retrieval_gateway_limit_fail_open_total and fires a critical alert; fail-closed refuses requests with 503
   * (limits are never exceeded, but a store outage is a full outage).
   */
  onDown: z.enum(["fail-open", "fail-closed"]).default("fail-open"),
});

/**
 * Requests for a model that has no ready pod (scaled to zero, or every pod starting) wait in a bounded queue per
 * model while KEDA wakes it (the number waiting is a trigger of the model's ScaledObject).
 */
export const GatewayWakeSchema = z.strictObject({
  /** Requests held per model; one more is answered 503 with Retry-After at once. */
  queueSize: z.number().int().min(0).max(100000).default(200),
  /** Longest a request waits for a ready pod. Default: the model's startup budget, capped at 600 s. */
  maxWaitSeconds: PositiveInt.max(3600).optional(),
});
export type GatewayWake = z.infer<typeof GatewayWakeSchema>;

export const GatewaySchema = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .meta({ description: "Deploy the retrieval gateway (one API for every model: /v1/embeddings, /v1/rerank)." }),
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
      message: fixMessage(
        'is not a Kubernetes namespace name (lowercase letters, digits and "-", at most 63 characters)',
        'write e.g. "retrieval-gateway"',
      ),
    })
    .default("retrieval-gateway")
    .meta({
      description:
        "Namespace of the gateway, its Redis and the quality canary, created by the stack and enforcing Pod Security `restricted` (the engines' namespace is `privileged` only for the weight cache). Must not be a namespace another part of the stack uses.",
    }),
  /** Gateway replicas (at least 2 in staging and prod, spread over zones); the HPA may add up to maxReplicas. */
  replicas: PositiveInt.max(50).optional(),
  maxReplicas: PositiveInt.max(100).default(6).meta({ description: "Most gateway replicas the autoscaler may run." }),
  keys: z
    .record(
      DnsLabel.refine((n) => !RESERVED_CALLER_NAMES.includes(n), {
        message: `is a reserved caller name (${"anonymous, unauthenticated, other"}); pick another key name`,
      }),
      GatewayKeySchema,
    )
    .default({})
    .meta({
      description: "Named API keys of the gateway (hashes only), with optional per-key limits and model scope.",
    }),
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
  /**
   * Requests in flight per ready pod of a model before the gateway queues the rest fairly between keys. Default:
   * what the engine batches well (its adapter: vLLM --max-num-seqs, TEI's batch, SGLang --max-running-requests when
   * set), else the model's autoscaling.inFlightPerReplica.
   */
  inFlightPerPod: z.record(DnsLabel, PositiveInt.max(100000)).default({}).meta({
    description:
      "Requests in flight per ready pod of a model (by name) before the gateway queues the rest fairly between keys; default: what the engine batches well (from its adapter), else the model's autoscaling.inFlightPerReplica.",
  }),
  jwt: GatewayJwtSchema.optional().meta({ description: "Accept JWTs (issuer, audience, keys) besides API keys." }),
  redis: GatewayRedisSchema.default(GatewayRedisSchema.parse({})).meta({
    description: "Where limits and quotas are counted across replicas, and what to do when it is down.",
  }),
  wake: GatewayWakeSchema.default(GatewayWakeSchema.parse({})),
  /** A prebuilt gateway image (`registry/repo:tag` or digest); default: built from images/gateway by `pulumi up`. */
  image: ImageRef.optional(),
  /**
   * CIDRs of further proxies in front of the gateway whose X-Forwarded-For names the client (a proxy outside the
   * cluster); the stack's ingress controller pods are learnt from its EndpointSlices without configuration. From any
   * other address the header is ignored. Used for failed-auth throttling and the connection cap per client address.
   */
  trustedProxies: z
    .array(z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, { message: 'must be a CIDR, e.g. "10.0.0.0/8"' }))
    .default([])
    .meta({
      description:
        "CIDRs of further proxies whose X-Forwarded-For names the client (the stack's ingress controller pods are learnt from its EndpointSlices; no need to list them).",
    }),
  /**
   * How long a stopping pod waits for its in-flight requests (SIGTERM to exit). Default: every attempt of the
   * longest call (upstreamTimeoutSeconds x attempts) plus 10 s; the pod's terminationGracePeriodSeconds is this
   * plus its preStop pause and a margin, so a request within its upstream timeout is never cut.
   */
  drainSeconds: z.number().positive().max(3600).optional(),
  /** Serve the playground page at /playground; default on in local and dev, off in staging and prod. */
  playground: z.boolean().optional(),
});
export type GatewayConfig = z.infer<typeof GatewaySchema>;

/** The drain time of a gateway pod (see drainSeconds): one source for the server and terminationGracePeriodSeconds. */
export function gatewayDrainSeconds(
  g: Pick<GatewayConfig, "drainSeconds" | "upstreamTimeoutSeconds" | "attempts">,
): number {
  return g.drainSeconds ?? Math.ceil(g.upstreamTimeoutSeconds * g.attempts) + 10;
}

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

/**
 * The Redis actually used: auto means memory only for a gateway that can never run a second replica (replicas and
 * maxReplicas both 1), a deployed Redis otherwise: per-replica counts would let a key through N times its limit.
 */
export function redisModeOf(
  g: Pick<GatewayConfig, "redis" | "maxReplicas">,
  replicas: number,
): "deploy" | "external" | "memory" {
  if (g.redis.mode !== "auto") return g.redis.mode;
  return Math.max(replicas, g.maxReplicas) > 1 ? "deploy" : "memory";
}
