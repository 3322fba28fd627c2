import { z } from "zod";
import { PositiveInt, type Environment } from "./common";
import { ImageRef } from "./formats";
import { profileOf } from "./environments";

export const VerificationSchema = z.strictObject({
  mode: z.enum(["auto", "job", "local", "off"]).default("auto").meta({
    description:
      "job: an in-cluster Job that `pulumi up` awaits (reaches private Services; the image is built from images/verifier and pushed to ECR in cloud stacks); local: the machine running `pulumi up` calls the public endpoints (existing clusters); off: skip; auto: job in cloud stacks, local elsewhere.",
  }),
  requests: PositiveInt.max(100000)
    .default(100)
    .meta({ description: "Requests in the latency check, and how many run at once." }),
  concurrency: PositiveInt.max(512).default(4).meta({ description: "Requests in flight during the latency check." }),
  timeoutSeconds: z
    .number()
    .positive()
    .max(3600)
    .default(300)
    .meta({ description: "Overall budget for one model's checks: nothing runs past it, whatever the server does." }),
  requestTimeoutSeconds: z
    .number()
    .positive()
    .max(600)
    .default(30)
    .meta({ description: "Budget of one HTTP attempt (connect, headers, body)." }),
  maxRetries: z.number().int().min(0).max(10).default(2).meta({
    description: "Retries of one call after a transient failure (refused, timeout, 408, 429, 5xx), with backoff.",
  }),
  quality: z
    .strictObject({
      enabled: z.boolean().default(false).meta({ description: "Run the quality check (MRR@10 on a labelled set)." }),
      minMrrAt10: z.number().min(0).max(1).default(0.75).meta({ description: "The check fails below this MRR@10." }),
    })
    .default({ enabled: false, minMrrAt10: 0.75 })
    .meta({ description: "Post-deploy retrieval quality check of each model." }),
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
