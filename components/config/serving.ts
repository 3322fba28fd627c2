import { z } from "zod";
import { CpuQuantity, DnsLabel, EngineName, MemoryQuantity, PinnedTag, Task } from "./common";
import { ModelSpec } from "./model-spec";
import { fixMessage } from "./errors";
import { bounded, CliArg, Int32, LatencyMs, safeString } from "./formats";

/**
 * A daily window in KEDA cron trigger terms (keda.sh/docs/2.18/scalers/cron, read 2026-11), e.g.
 * { timezone: "Asia/Shanghai", start: "0 8 * * 1-5", end: "0 20 * * 1-5" }: 08:00-20:00 Monday to Friday.
 */
export const ActiveHoursSchema = z.strictObject({
  timezone: safeString(64).min(1).meta({ description: 'IANA time zone name, e.g. "Asia/Shanghai".' }),
  start: z.string().min(1).meta({
    description: "5-field cron expression (minute hour day-of-month month day-of-week) when the window opens.",
  }),
  end: z
    .string()
    .min(1)
    .meta({ description: "5-field cron expression when the window closes (must differ from start)." }),
});
export type ActiveHours = z.infer<typeof ActiveHoursSchema>;

/**
 * A KEDA target per replica: KEDA writes it as the HPA's target quantity, so 1e-300 becomes a target of 0 and 1e300
 * an overflow. 0.1 to 100,000 waiting or running requests per replica.
 */
const PER_REPLICA_TARGET = bounded({
  min: 0.1,
  max: 100000,
  tooLow: "is below 0.1: KEDA would turn it into a target of 0 and scale to the maximum at once",
  tooHigh: "KEDA would turn it into a target no engine reaches, so the model would never scale up",
});

export const ModelConfigSchema = z.strictObject({
  name: DnsLabel.meta({ description: 'Kubernetes name, route segment and served model name, e.g. "bge-large-zh".' }),
  model: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, {
      message: fixMessage('is not a Hugging Face id "org/name"', 'write e.g. "BAAI/bge-large-zh-v1.5"'),
    })
    .meta({ description: 'Hugging Face model id, e.g. "BAAI/bge-large-zh-v1.5".' }),
  revision: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/, {
      message: fixMessage(
        "is not a model revision (a commit hash, tag or branch: letters, digits, '.', '_', '-', '/'; no spaces or shell characters)",
        'write the commit hash from the model page, e.g. "7999e1d3359715c523056ef9478215996d62a620"',
      ),
    })
    .optional()
    .meta({ description: "A fixed model revision (commit or tag) so that every replica loads the same weights." }),
  engine: EngineName.meta({ description: "Serving engine; each has one adapter in components/serving/engines/." }),
  task: Task.meta({ description: "embed (vectors) or rerank (relevance scores); must match the model." }),
  engineVersion: PinnedTag.optional().meta({
    description: "Engine image tag; the adapter's pinned default when absent.",
  }),
  replicas: z
    .strictObject({
      min: Int32.meta({ description: "Fewest replicas; 0 scales to zero (needs autoscaling.activeHours)." }),
      max: Int32.min(1).meta({ description: "Most replicas the autoscaler may run." }),
    })
    .meta({ description: "How many replicas of the model run: the autoscaler moves between min and max." }),
  gpu: z
    .strictObject({
      nodeGroup: z.string().min(1).meta({ description: "Name of a GPU node group under gpuNodeGroups." }),
      count: bounded({ min: 1, max: 8, int: true, tooHigh: "no GPU instance has more than 8 GPUs" })
        .default(1)
        .meta({ description: "GPUs per replica (tensor parallelism)." }),
      memoryFraction: z.number().min(0.1).max(0.95).default(0.9).meta({
        description: "Fraction of GPU memory the engine may take (vLLM/SGLang); leaves headroom for CUDA context.",
      }),
    })
    .optional()
    .meta({ description: "GPU placement; absent means a CPU deployment (local stack, small models)." }),
  resources: z
    .strictObject({
      cpu: CpuQuantity.meta({ description: 'CPU request, e.g. "2" or "500m".' }),
      memory: MemoryQuantity.meta({ description: 'Memory request and limit, e.g. "16Gi".' }),
    })
    .optional()
    .meta({
      description: "Container requests (limits: memory = request, CPU unlimited to avoid tokenizer throttling).",
    }),
  maxModelLen: bounded({
    min: 1,
    max: 10_000_000,
    int: true,
    unit: " tokens",
    tooHigh: "no model of this project has a context that long",
  })
    .optional()
    .meta({
      description: "Context length the engine allocates for; must not exceed the model's maximum.",
    }),
  dimensions: bounded({ min: 1, max: 65536, int: true, tooHigh: "no embedding model answers vectors that long" })
    .optional()
    .meta({ description: "Matryoshka output size (only for models that support it)." }),
  dtype: z
    .enum(["auto", "float16", "bfloat16", "float32"])
    .default("auto")
    .meta({ description: "Weight and activation precision; auto takes the model's own." }),
  slo: z
    .strictObject({
      p99LatencyMs: LatencyMs.meta({ description: "p99 request latency objective in ms." }),
      meanLatencyMs: LatencyMs.optional().meta({
        description:
          "Mean request latency objective in ms (ModelServiceHighMeanLatency); default observability.alerts.meanLatency.ofP99 x p99LatencyMs.",
      }),
    })
    .meta({ description: "Latency objective: alerts and the post-deploy verification check p99 against it." }),
  autoscaling: z
    .strictObject({
      queueDepthPerReplica: PER_REPLICA_TARGET.default(8).meta({
        description: "Waiting requests per replica that trigger a scale-up.",
      }),
      inFlightPerReplica: PER_REPLICA_TARGET.default(32).meta({
        description: "Running requests per replica that trigger a scale-up.",
      }),
      activeHours: ActiveHoursSchema.optional().meta({
        description:
          "Working hours for a scale-to-zero model (replicas.min 0): at least one replica from `start` to `end` (KEDA cron trigger; queue and in-flight add more), zero outside them once idle for the cooldown. An engine with no pod exports no metric, so this schedule is what brings the model back. Checked in rules/models.ts.",
      }),
    })
    .default({ queueDepthPerReplica: 8, inFlightPerReplica: 32 })
    .meta({ description: "When KEDA adds or removes replicas (queue depth, requests in flight, working hours)." }),
  spec: ModelSpec.optional().meta({
    description: "Model facts for a model that is not in the catalogue (components/serving/models.ts).",
  }),
  quality: z
    .strictObject({
      labelledSet: z.string().min(1).optional().meta({
        description:
          'Your own labelled set for this model (JSONL, one {"query", "candidates": [{"id", "text"}], "relevant": [ids]} a line; path relative to the project): the post-deploy quality check and the canary score it instead of the bundled set.',
      }),
      minMrrAt10: z.number().min(0).max(1).optional().meta({
        description: "This model's MRR@10 threshold (default verification.quality.minMrrAt10).",
      }),
    })
    .optional()
    .meta({ description: "Per-model quality check: your own labelled set and threshold." }),
  reindexConfirmed: z
    .string()
    .regex(/^fp-[0-9a-f]{12}$/, {
      message: 'must be a fingerprint id such as "fp-0123456789ab" (the verifier names it)',
    })
    .optional()
    .meta({
      description:
        "After re-indexing with this model's new vectors (or scores), the fingerprint id the verifier named: the new answers become the recorded fingerprint instead of failing the deploy (docs/model-changes.md).",
    }),
  engineOptions: z.record(z.string(), z.unknown()).default({}).meta({
    description: "Engine-specific options, checked by that engine's adapter (e.g. KServe's { backend: \"vllm\" }).",
  }),
  extraArgs: z.array(CliArg).default([]).meta({ description: "Extra engine CLI flags, appended verbatim." }),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;
