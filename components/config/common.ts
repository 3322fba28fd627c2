import { z } from "zod";
import { fixMessage } from "./errors";
import { TAG } from "./formats";

export { Cidr } from "./formats";

/** Environments: `local` runs on an existing cluster with CPU engines; the others are cloud stacks. */
export const Environment = z.enum(["local", "dev", "staging", "prod"]);
export type Environment = z.infer<typeof Environment>;

/** Serving engines. Each has exactly one adapter in components/serving/engines/. */
export const EngineName = z.enum(["vllm", "sglang", "tei", "kserve", "xinference"]);
export type EngineName = z.infer<typeof EngineName>;

export const Task = z.enum(["embed", "rerank"]);
export type Task = z.infer<typeof Task>;

export const Severity = z.enum(["critical", "warning", "info"]);
export type Severity = z.infer<typeof Severity>;

/** A DNS-1035 label: valid as a Kubernetes object name, a Service name and a URL path segment. */
export const DnsLabel = z.string().regex(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/, {
  message: fixMessage(
    "is not a DNS label (lowercase letters, digits and '-', starting with a letter, at most 40 characters)",
    'use a name such as "bge-large-zh"',
  ),
});

/** Kubernetes resource quantities, e.g. "500m", "4", "16Gi". */
export const CpuQuantity = z
  .string()
  .regex(/^([0-9]+m|[0-9]+(\.[0-9]+)?)$/, { message: fixMessage("is not a CPU quantity", 'write e.g. "500m" or "4"') });
export const MemoryQuantity = z.string().regex(/^[0-9]+(Ki|Mi|Gi|Ti)$/, {
  message: fixMessage("is not a memory quantity with a binary unit", 'write e.g. "512Mi" or "16Gi"'),
});

/** A duration as Prometheus writes it: "30s", "5m", "1h", "15d". */
export const PromDuration = z.string().regex(/^[0-9]+(ms|s|m|h|d|w|y)$/, {
  message: fixMessage("is not a Prometheus duration", 'write e.g. "5m", "1h" or "15d"'),
});

/** An image tag that names a fixed release. `latest` and empty tags move under you and are refused. */
export const PinnedTag = z
  .string()
  .min(1)
  .regex(TAG, {
    message: fixMessage(
      "is not an image tag (at most 128 of letters, digits, '_', '.', '-')",
      'write a release tag, e.g. "v0.11.0"',
    ),
  })
  .refine((t) => t !== "latest" && !t.endsWith("-latest"), {
    message: fixMessage(
      'is not a fixed release tag (not "latest")',
      'pin e.g. "v0.11.0" so every replica runs the same build',
    ),
  });

export const PositiveInt = z.number().int().positive();
export const NonNegativeInt = z.number().int().nonnegative();
