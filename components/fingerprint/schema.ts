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
  /**
   * Embedding aliases that now point at this model instead of the model their callers' indexes were built with
   * (`indexedWith`, a model loading the same weights; config refuses any other switch): this model's answers must
   * match that model's recorded fingerprint (`fromRecorded`, filled in from the record before the run).
   */
  aliasSwitches: z
    .array(
      z.strictObject({
        alias: z.string().min(1),
        from: z.string().min(1),
        fromRecorded: FingerprintSchema.optional(),
      }),
    )
    .optional(),
});
export type FingerprintTarget = z.infer<typeof FingerprintTargetSchema>;

/** The record the stack keeps (stack output and ConfigMap): the fingerprint of each model, by model name. */
export type FingerprintRecord = Record<string, z.infer<typeof FingerprintSchema>>;

type RecordedTarget = { readonly name: string; readonly fingerprint?: FingerprintTarget };

/**
 * Fills each target's fingerprint target from the record (model name -> fingerprint): its own recorded
 * fingerprint, and for every alias switched to it, the recorded fingerprint of the model the alias switched from.
 * Shared by the Job (ConfigMaps) and the local resource (its state).
 */
export function withRecords<T extends RecordedTarget>(
  targets: readonly T[],
  record: Readonly<Record<string, z.infer<typeof FingerprintSchema>>>,
): T[] {
  return targets.map((t) => {
    const f = t.fingerprint;
    if (!f) return t;
    const own = record[t.name];
    const switches = f.aliasSwitches?.map((s) => (record[s.from] ? { ...s, fromRecorded: record[s.from] } : s));
    return {
      ...t,
      fingerprint: { ...f, ...(own ? { recorded: own } : {}), ...(switches ? { aliasSwitches: switches } : {}) },
    };
  });
}
