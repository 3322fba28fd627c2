import { z } from "zod";
import { PositiveInt, type Environment } from "./common";
import { bounded, ImageRef } from "./formats";
import { profileOf } from "./environments";

export const VerificationSchema = z.strictObject({
  mode: z.enum(["auto", "job", "local", "off"]).default("auto").meta({
    description:
      "job: an in-cluster Job that `pulumi up` awaits (reaches private Services; the image is built from images/verifier and pushed to ECR in cloud stacks); local: the machine running `pulumi up` calls the public endpoints (existing clusters); off: skip; auto: job in cloud stacks, local elsewhere.",
  }),
  requests: PositiveInt.max(100000)
    .default(100)
    .meta({ description: "Requests in the latency check, and how many run at once." }),
  concurrency: PositiveInt.max(512).default(4),
  timeoutSeconds: bounded({
    min: 1,
    max: 3600,
    unit: " s",
    tooLow: "is below 1 s: no model answers a check in less, so every verification would fail",
    tooHigh: "a verification that long outlasts pulumi's own wait for the Job",
  })
    .default(300)
    .meta({ description: "Overall budget for one model's checks: nothing runs past it, whatever the server does." }),
  requestTimeoutSeconds: bounded({
    min: 0.1,
    max: 600,
    unit: " s",
    tooLow: "is below 0.1 s: no HTTP attempt completes in less",
    tooHigh: "one attempt that long is a hung server",
  })
    .default(30)
    .meta({ description: "Budget of one HTTP attempt (connect, headers, body)." }),
  maxRetries: z.number().int().min(0).max(10).default(2).meta({
    description: "Retries of one call after a transient failure (refused, timeout, 408, 429, 5xx), with backoff.",
  }),
  quality: z
    .strictObject({
      enabled: z.boolean().default(false),
      minMrrAt10: bounded({
        min: 0,
        aboveMin: true,
        max: 1,
        tooLow: "is 0 or below, so the quality check passes whatever the model answers",
        tooHigh: "MRR@10 is at most 1",
      }).default(0.75),
    })
    .default({ enabled: false, minMrrAt10: 0.75 }),
  publicPath: z.boolean().optional().meta({
    description:
      "With mode job: after the in-cluster Job, call every model again through the public path (the NLB, TLS, the ingress's routes, keys and limits, the gateway's public URL) from the machine running `pulumi up`; a failure fails the deploy. Default: true in prod (its deploy runner reaches the endpoint), false elsewhere.",
  }),
  image: ImageRef.optional().meta({
    description:
      "A prebuilt verifier image (`registry/repo:tag`, pinned) for mode job. Needed where the stack has no registry to push to (environments that are not cloud); in cloud stacks it skips the build.",
  }),
});
export type VerificationConfig = z.infer<typeof VerificationSchema>;

export type VerificationMode = Exclude<VerificationConfig["mode"], "auto">;

/** The mode that runs: "auto" is the Job in cloud stacks (they have a registry) and local mode elsewhere. */
export function verificationModeOf(v: Pick<VerificationConfig, "mode">, environment: Environment): VerificationMode {
  if (v.mode !== "auto") return v.mode;
  return profileOf(environment).cloud ? "job" : "local";
}

/** Whether mode job also verifies the public path from the machine running `pulumi up` (default: in prod). */
export function verifiesPublicPath(
  v: Pick<VerificationConfig, "mode" | "publicPath">,
  environment: Environment,
): boolean {
  return verificationModeOf(v, environment) === "job" && (v.publicPath ?? environment === "prod");
}
