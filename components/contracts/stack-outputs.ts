import { z } from "zod";
import { VerificationSchema } from "../config/verification";
import { VerifyTargetSchema, type VerifyOptions, type VerifyTargetInput } from "./verify-target";

/** Name of the stack output the program exports (index.ts) and `retrieval-stack verify --stack` reads. */
export const STACK_OUTPUT_KEY = "verification";
/** A separate, secret output with the API key the checks send through the ingress (shown with --show-secrets). */
const STACK_API_KEY_OUTPUT = "verificationApiKey";
/** The secret output with the key the checks send to the gateway. */
const STACK_GATEWAY_API_KEY_OUTPUT = "verificationGatewayApiKey";

/** One model as the stack exports it: the in-cluster target plus its public ingress URL, when there is one. */
const StackTargetSchema = VerifyTargetSchema.extend({
  /**
   * Full public URL of the task endpoint, e.g. https://retrieval.example.com/models/bge/v1/embeddings; for a
   * gateway target the gateway's public base URL, e.g. https://retrieval.example.com.
   */
  publicUrl: z.url().optional(),
});
export type StackTarget = z.infer<typeof StackTargetSchema>;

const StackVerificationSchema = z.object({
  options: VerificationSchema.pick({
    requests: true,
    concurrency: true,
    timeoutSeconds: true,
    requestTimeoutSeconds: true,
    maxRetries: true,
    quality: true,
    publicPathLimits: true,
  }),
  targets: z.array(StackTargetSchema),
});
export type StackVerification = z.infer<typeof StackVerificationSchema>;

/**
 * Reads `pulumi stack output --json` (the whole object) and returns what to verify. From outside the cluster
 * (the default) a model is called through its public ingress route; `inCluster` uses the Service URLs.
 */
export function targetsFromStackOutputs(
  outputs: unknown,
  inCluster = false,
): {
  targets: VerifyTargetInput[];
  options: Omit<VerifyOptions, "apiKey">;
  apiKey?: string;
  gatewayApiKey?: string;
} {
  const root = z.record(z.string(), z.unknown()).safeParse(outputs);
  if (!root.success) throw new Error("stack outputs: expected the JSON object `pulumi stack output --json` prints");
  if (!(STACK_OUTPUT_KEY in root.data)) {
    throw new Error(
      `stack outputs: no "${STACK_OUTPUT_KEY}" output (have: ${Object.keys(root.data).join(", ") || "none"}); deploy a version of retrieval-stack that exports it, or verify one model with --engine/--url/--model/--task`,
    );
  }
  const parsed = StackVerificationSchema.safeParse(root.data[STACK_OUTPUT_KEY]);
  if (!parsed.success)
    throw new Error(
      `stack outputs: "${STACK_OUTPUT_KEY}" is not what this version expects: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const targets = parsed.data.targets.map(({ publicUrl, edge, ...t }) => {
    // The ingress's limits are checked on the public path only: in-cluster calls never pass it.
    if (inCluster || !publicUrl) return t;
    const limits = edge ? { edge } : {};
    if (t.kind === "gateway") return { ...t, ...limits, url: publicUrl };
    const u = new URL(publicUrl);
    return { ...t, ...limits, url: u.origin, route: u.pathname };
  });
  // Without --show-secrets Pulumi prints "[secret]": not a key.
  const secret = (name: string) => {
    const key = root.data[name];
    return typeof key === "string" && key !== "" && key !== "[secret]" ? key : undefined;
  };
  return {
    targets,
    options: parsed.data.options,
    apiKey: secret(STACK_API_KEY_OUTPUT),
    gatewayApiKey: secret(STACK_GATEWAY_API_KEY_OUTPUT),
  };
}

/** Where the verification Job's ConfigMap is mounted, and its key. */
export const JOB_CONFIG_DIR = "/etc/retrieval-stack";
export const JOB_CONFIG_KEY = "verification.json";

/** The ConfigMap in which the Job keeps the aliases of the last verified deploy (the promotion gate's "before"). */
export const PROMOTION_CONFIGMAP = "verification-promotion";

/** Where the Job keeps its record (#25): the namespace of the `fingerprint-<model>` and aliases ConfigMaps. */
const JobRecordConfigSchema = z.strictObject({ namespace: z.string().min(1) });
export type JobRecordConfig = z.infer<typeof JobRecordConfigSchema>;

/** The promotion gate as the Job runs it: the aliases this deploy sets, each model's task, the gate, Prometheus. */
const JobPromotionSchema = z.strictObject({
  aliases: z.record(
    z.string(),
    z.strictObject({ targets: z.array(z.strictObject({ model: z.string(), weight: z.number() })).readonly() }),
  ),
  tasks: z.record(z.string(), z.enum(["embed", "rerank"])),
  gate: z.strictObject({
    window: z.string(),
    minShadowCalls: z.number(),
    minKendallTau: z.number(),
    minTop3Overlap: z.number(),
    minNdcgAt10: z.number(),
    maxQualityDrop: z.number(),
  }),
  /** In-cluster Prometheus (default: PROMETHEUS_URL, the Service the Prometheus Operator creates). */
  prometheusUrl: z.string().optional(),
  override: z.string().optional(),
});

/**
 * The Job's ConfigMap JSON: the same shape the stack exports (options + targets; no secrets), plus where it keeps
 * the fingerprint record and the promotion gate to run (both absent when fingerprints and promotion are off).
 */
export const JobConfigSchema = StackVerificationSchema.extend({
  record: JobRecordConfigSchema.optional(),
  promotion: JobPromotionSchema.optional(),
});
export type JobConfig = z.infer<typeof JobConfigSchema>;

/** What the local mode's resource stores: the inputs (API key aside) and the hash that decides re-runs. */
export interface LocalVerificationInputs {
  readonly targets: readonly VerifyTargetInput[];
  readonly options: Omit<VerifyOptions, "apiKey">;
  readonly apiKey?: string;
  /** Sent to the gateway targets (default: apiKey). */
  readonly gatewayApiKey?: string;
  /** Changes when a model, an engine or the verification config changes: only then do the checks re-run. */
  readonly targetsHash: string;
  /**
   * The promotion gate (docs/model-changes.md): the gateway's aliases as this deploy sets them, each model's task,
   * the thresholds. The provider compares them with the previous deploy's (its state) and checks the evidence.
   */
  readonly promotion?: {
    readonly aliases: Readonly<Record<string, { readonly targets: readonly { model: string; weight: number }[] }>>;
    readonly tasks: Readonly<Record<string, "embed" | "rerank">>;
    readonly gate: import("../fingerprint/promotion").PromotionGate;
    readonly prometheusUrl?: string;
    readonly override?: string;
  };
}
