/**
 * The JSON shapes of fingerprints where they cross a boundary: the verifier's target (what to compare with),
 * its report (what to keep), the ConfigMap the canary reads. Checked with zod on the way in.
 */
import { z } from "zod";

export const FingerprintKeySchema = z.strictObject({
  modelId: z.string().min(1),
  revision: z.string().min(1),
  engine: z.string().min(1),
  engineVersion: z.string().min(1),
  dtype: z.string().min(1),
  dimensions: z.number().int().nonnegative(),
});

export const FingerprintSchema = z.discriminatedUnion("task", [
  z.strictObject({
    task: z.literal("embed"),
    key: FingerprintKeySchema.readonly(),
    probeSet: z.string(),
    id: z.string(),
    probes: z.array(z.strictObject({ id: z.string(), norm: z.number(), unit: z.string() }).readonly()).readonly(),
  }),
  z.strictObject({
    task: z.literal("rerank"),
    key: FingerprintKeySchema.readonly(),
    probeSet: z.string(),
    id: z.string(),
    probes: z.array(z.strictObject({ id: z.string(), scores: z.array(z.number()).readonly() }).readonly()).readonly(),
  }),
]);

const FingerprintToleranceSchema = z.strictObject({
  minCosine: z.number(),
  maxNormChange: z.number(),
  minKendallTau: z.number(),
  minTop3Overlap: z.number(),
  maxScoreChange: z.number(),
});

/** What a verification or canary target needs to take and judge a fingerprint. */
export const FingerprintTargetSchema = z.strictObject({
  key: FingerprintKeySchema,
  /** The config path for messages, e.g. "models.bge-small-zh". */
  configPath: z.string().min(1),
  recorded: FingerprintSchema.optional(),
  reindexConfirmed: z.string().optional(),
  tolerance: FingerprintToleranceSchema.optional(),
});
export type FingerprintTarget = z.infer<typeof FingerprintTargetSchema>;

/** The record the stack keeps (stack output and ConfigMap): the fingerprint of each model, by model name. */
export type FingerprintRecord = Record<string, z.infer<typeof FingerprintSchema>>;
