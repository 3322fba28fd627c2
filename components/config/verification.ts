import { z } from "zod";
import { PositiveInt } from "./common";

export const VerificationSchema = z.strictObject({
  /** job: an in-cluster Job that `pulumi up` awaits; local: run from the machine running pulumi; off: skip. */
  mode: z.enum(["job", "local", "off"]).default("job"),
  /** Requests in the latency check, and how many run at once. */
  requests: PositiveInt.max(100000).default(100),
  concurrency: PositiveInt.max(512).default(4),
  /** Overall budget for one model's checks. */
  timeoutSeconds: PositiveInt.max(3600).default(300),
  quality: z
    .strictObject({ enabled: z.boolean().default(false), minMrrAt10: z.number().min(0).max(1).default(0.75) })
    .default({ enabled: false, minMrrAt10: 0.75 }),
});
export type VerificationConfig = z.infer<typeof VerificationSchema>;
