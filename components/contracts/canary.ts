/**
 * What the canary runs, as the Deployment's ConfigMap holds it (JSON): the schedule, the targets (the verifier's
 * target shape plus the scale-to-zero facts) and where the optional user set is mounted. No secrets: the API key
 * comes from the environment (CANARY_API_KEY, a Secret).
 */
import { z } from "zod";
import { ActiveHoursSchema } from "../config/serving";
import { VerifyTargetSchema } from "./verify-target";

export const CANARY_CONFIG_DIR = "/etc/retrieval-stack/canary";
export const CANARY_CONFIG_KEY = "canary.json";
export const CANARY_USER_SET_DIR = "/etc/retrieval-stack/canary-user-set";
export const CANARY_FINGERPRINT_DIR = "/etc/retrieval-stack/fingerprints";
export const CANARY_METRICS_PORT = 9464;

export const CanaryTargetSchema = VerifyTargetSchema.omit({ wakeTimeoutSeconds: true, activeHours: true }).extend({
  /** replicas.min 0: the canary calls it only inside `activeHours` (never wakes it). */
  scaleToZero: z.boolean().default(false),
  activeHours: ActiveHoursSchema.optional(),
});
export type CanaryTarget = z.infer<typeof CanaryTargetSchema>;

export const CanaryConfigSchema = z.strictObject({
  /** Seconds between runs (each model once per run). */
  intervalSeconds: z.number().positive().default(300),
  /** Each wait is interval ± up to this many seconds, so replicas and restarts do not hit the models in step. */
  jitterSeconds: z.number().nonnegative().default(30),
  /** Budget of one request attempt. */
  requestTimeoutSeconds: z.number().positive().default(30),
  maxRetries: z.number().int().nonnegative().default(1),
  /** Port of /metrics and /healthz. */
  port: z.number().int().positive().default(CANARY_METRICS_PORT),
  /** Address to listen on (tests: 127.0.0.1). */
  host: z.string().default("0.0.0.0"),
  /**
   * Where every model's recorded fingerprint is mounted (one projected volume of the `fingerprint-<model>`
   * ConfigMaps, components/fingerprint/store.ts); read on every run. Absent: only inline records are compared.
   */
  fingerprintDir: z.string().optional(),
  /** The user's labelled set (JSONL), when one is mounted. */
  userSetFile: z.string().optional(),
  targets: z.array(CanaryTargetSchema).min(1),
});
export type CanaryConfig = z.infer<typeof CanaryConfigSchema>;
export type CanaryConfigInput = z.input<typeof CanaryConfigSchema>;

/** The canary's metrics (gauges on :CANARY_METRICS_PORT/metrics): the alert rules and dashboards read these names. */
export const CANARY_METRICS = {
  checkSuccess: {
    name: "retrieval_stack_canary_check_success",
    help: "1 when the canary's last run of this check on this model passed, 0 when it failed.",
  },
  mrrAt10: { name: "retrieval_stack_canary_mrr_at_10", help: "MRR@10 of the model on the labelled set (0..1)." },
  ndcgAt10: { name: "retrieval_stack_canary_ndcg_at_10", help: "NDCG@10 of the model on the labelled set (0..1)." },
  latency: {
    name: "retrieval_stack_canary_latency_seconds",
    help: "Wall time of the canary's last run of this check on this model, retries included.",
  },
  lastRun: {
    name: "retrieval_stack_canary_last_run_timestamp_seconds",
    help: "Unix time the canary last finished a run for this model (also when it skipped the model outside its active hours).",
  },
  fingerprintDrift: {
    name: "retrieval_stack_canary_fingerprint_drift",
    help: "1 minus the lowest per-probe similarity to the recorded fingerprint (cosine for embeddings, Kendall tau for rerank); 0 = identical.",
  },
  fingerprintMatch: {
    name: "retrieval_stack_canary_fingerprint_match",
    help: "1 while the model's answers to the probes are within tolerance of its recorded fingerprint, 0 when they drifted.",
  },
  skipped: {
    name: "retrieval_stack_canary_skipped",
    help: "1 while the canary skips this scale-to-zero model outside its active hours (no calls, no quality series).",
  },
} as const;

export type CanaryMetric = keyof typeof CANARY_METRICS;
export const CANARY_METRIC_NAMES = Object.values(CANARY_METRICS).map((m) => m.name);
