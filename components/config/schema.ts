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
  models: z.array(ModelConfigSchema).min(1, {
    message: fixMessage(
      "needs at least one model",
      "add one, e.g. { name: bge-small-zh, model: BAAI/bge-small-zh-v1.5, ... }",
    ),
  }),
  ingress: IngressSchema.default(IngressSchema.parse({})),
  observability: ObservabilitySchema.default(ObservabilitySchema.parse({})),
  verification: VerificationSchema.default(VerificationSchema.parse({})),
  engines: EnginesSchema.default(EnginesSchema.parse({})),
  gateway: GatewaySchema.default(GatewaySchema.parse({})),
  cost: CostSchema.default(CostSchema.parse({})),
  secrets: SecretsSchema.default({}),
} as const;

export const PlatformConfigSchema = z.strictObject(PLATFORM_SECTIONS);
export type PlatformConfig = z.infer<typeof PlatformConfigSchema>;
/** What a stack file may contain (defaults not yet applied). */
export type PlatformConfigInput = z.input<typeof PlatformConfigSchema>;
export type SectionName = keyof typeof PLATFORM_SECTIONS;
