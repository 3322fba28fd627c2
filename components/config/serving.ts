import { z } from "zod";
import { CpuQuantity, DnsLabel, EngineName, MemoryQuantity, PinnedTag, PositiveInt, Task } from "./common";
import { ModelSpec } from "./model-spec";
import { fixMessage } from "./errors";
import { CliArg, Int32 } from "./formats";

/**
 * A daily window in KEDA cron trigger terms (keda.sh/docs/2.18/scalers/cron, read 2026-11), e.g.
 * { timezone: "Asia/Shanghai", start: "0 8 * * 1-5", end: "0 20 * * 1-5" }: 08:00-20:00 Monday to Friday.
 */
export const ActiveHoursSchema = z.strictObject({
  timezone: z.string().min(1).meta({ description: 'IANA time zone name, e.g. "Asia/Shanghai".' }),
  start: z.string().min(1).meta({
    description: "5-field cron expression (minute hour day-of-month month day-of-week) when the window opens.",
  }),
  end: z
    .string()
    .min(1)
    .meta({ description: "5-field cron expression when the window closes (must differ from start)." }),
});
export type ActiveHours = z.infer<typeof ActiveHoursSchema>;

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
    .min(1)
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
      count: PositiveInt.default(1).meta({ description: "GPUs per replica (tensor parallelism)." }),
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
  maxModelLen: PositiveInt.optional().meta({
    description: "Context length the engine allocates for; must not exceed the model's maximum.",
  }),
  dimensions: PositiveInt.optional().meta({ description: "Matryoshka output size (only for models that support it)." }),
  dtype: z
    .enum(["auto", "float16", "bfloat16", "float32"])
    .default("auto")
    .meta({ description: "Weight and activation precision; auto takes the model's own." }),
  slo: z
    .strictObject({ p99LatencyMs: PositiveInt.meta({ description: "p99 request latency objective in ms." }) })
    .meta({ description: "Latency objective: alerts and the post-deploy verification check p99 against it." }),
  autoscaling: z
    .strictObject({
      queueDepthPerReplica: z
        .number()
        .positive()
        .default(8)
        .meta({ description: "Waiting requests per replica that trigger a scale-up." }),
      inFlightPerReplica: z
        .number()
        .positive()
        .default(32)
        .meta({ description: "Running requests per replica that trigger a scale-up." }),
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
  engineOptions: z.record(z.string(), z.unknown()).default({}).meta({
    description: "Engine-specific options, checked by that engine's adapter (e.g. KServe's { backend: \"vllm\" }).",
  }),
  extraArgs: z.array(CliArg).default([]).meta({ description: "Extra engine CLI flags, appended verbatim." }),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;
