import { z } from "zod";
import { fixMessage } from "./errors";
import { CpuRequest, durationIn, MemoryRequest, MOVING_TAGS, movingTagOf, TAG } from "./formats";

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

/** Kubernetes resource quantities, e.g. "500m", "4", "16Gi": from 1m / 16Mi to more than any node has. */
export const CpuQuantity = CpuRequest;
export const MemoryQuantity = MemoryRequest;

/**
 * A duration as Prometheus writes it: "30s", "5m", "1h", "15d". At most 10 years: Go parses durations into int64
 * nanoseconds (about 292 years), and nothing this stack waits for or keeps is meant to last longer.
 */
export const PromDuration = durationIn(0, 10 * 365 * 86400, "longer than anything this stack keeps or waits for");

/**
 * How long an alert's condition must hold before it fires: at most 1 day, or the alert would in effect never fire
 * (a pod restart or a rollout resets most conditions long before).
 */
export const AlertFor = durationIn(
  0,
  86400,
  "a condition rarely holds that long without a restart resetting it, so the alert would in effect never fire",
);

/** Retention of metrics or logs: at least 1 hour (0 would mean the default or nothing), at most 10 years. */
export const Retention = durationIn(3600, 10 * 365 * 86400, "an S3 lifecycle rule or Go duration that long is a typo");

/** An image tag that names a fixed release. `latest`, `nightly` and the like move under you and are refused. */
export const PinnedTag = z
  .string()
  .min(1)
  .regex(TAG, {
    message: fixMessage(
      "is not an image tag (at most 128 of letters, digits, '_', '.', '-')",
      'write a release tag, e.g. "v0.11.0"',
    ),
  })
  .refine((t) => movingTagOf(t) === undefined, {
    message: fixMessage(
      `is not a fixed release tag (not ${MOVING_TAGS.map((t) => `"${t}"`).join(", ")}, in any case)`,
      'pin e.g. "v0.11.0" so every replica runs the same build',
    ),
  });

export const PositiveInt = z.number().int().positive();
export const NonNegativeInt = z.number().int().nonnegative();
