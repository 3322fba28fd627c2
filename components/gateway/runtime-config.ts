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
});
export type RuntimeModel = z.infer<typeof RuntimeModelSchema>;

export const RuntimeKeySchema = z.strictObject({
  name: z.string().min(1),
  sha256: z.array(z.string().regex(/^[0-9a-f]{64}$/)).min(1),
  limits: GatewayLimitsSchema.partial().optional(),
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
      }),
    )
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
});
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
export type RuntimeConfigInput = z.input<typeof RuntimeConfigSchema>;
