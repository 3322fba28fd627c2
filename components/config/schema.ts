import { z } from "zod";
import { Environment, DnsLabel } from "./common";
import { ClusterSchema, GpuNodeGroupSchema } from "./cluster";
import { ModelConfigSchema } from "./serving";
import { IngressSchema } from "./ingress";
import { ObservabilitySchema } from "./observability";
import { VerificationSchema } from "./verification";
import { SecretsSchema } from "./secrets";
import { EnginesSchema } from "./engines";
import { fixMessage } from "./errors";
import { GatewaySchema } from "./gateway";
import { ImagesSchema } from "./images";

/**
 * Most models one stack holds: the largest size whose plan was measured to work (time, peak memory and the size of
 * every rendered object; docs/plan.md "Scaling", scripts/bench-plan.ts --scale). Beyond it the ingress's one
 * VirtualServer and the gateway's route table grow toward the API server's object limits, and the plan's time and
 * memory were not measured.
 */
export const MAX_MODELS = 300;
/** scripts/bench-plan.ts measures beyond MAX_MODELS with this set; never a way to deploy more. */
const BENCH_MAX_MODELS_ENV = "RETRIEVAL_STACK_BENCH_MAX_MODELS";
const modelLimit = Number(process.env[BENCH_MAX_MODELS_ENV]) || MAX_MODELS;
import { CostSchema } from "./cost";

/**
 * The whole stack config, one section per top-level Pulumi config key (`retrieval-stack:<section>`).
 * Secret keys (hfToken, apiKeys, ...) are gathered under `secrets`. Every type in the project that describes
 * config is inferred from here.
 */
export const PLATFORM_SECTIONS = {
  environment: Environment,
  cluster: ClusterSchema,
  gpuNodeGroups: z.record(DnsLabel, GpuNodeGroupSchema).default({}),
  models: z
    .array(ModelConfigSchema)
    .min(1, {
      message: fixMessage(
        "needs at least one model",
        "add one, e.g. { name: bge-small-zh, model: BAAI/bge-small-zh-v1.5, ... }",
      ),
    })
    .max(modelLimit, {
      message: fixMessage(
        `has more than ${MAX_MODELS} models, the largest stack measured to plan within 2 GB and to render objects the API server stores (docs/plan.md, "Scaling")`,
        "split the models over several stacks, e.g. one per team or per task",
      ),
    }),
  ingress: IngressSchema.default(IngressSchema.parse({})),
  observability: ObservabilitySchema.default(ObservabilitySchema.parse({})),
  verification: VerificationSchema.default(VerificationSchema.parse({})),
  engines: EnginesSchema.default(EnginesSchema.parse({})),
  gateway: GatewaySchema.default(GatewaySchema.parse({})),
  images: ImagesSchema.optional(),
  cost: CostSchema.default(CostSchema.parse({})),
  secrets: SecretsSchema.default({}),
} as const;

export const PlatformConfigSchema = z.strictObject(PLATFORM_SECTIONS);
export type PlatformConfig = z.infer<typeof PlatformConfigSchema>;
/** What a stack file may contain (defaults not yet applied). */
export type PlatformConfigInput = z.input<typeof PlatformConfigSchema>;
export type SectionName = keyof typeof PLATFORM_SECTIONS;
