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
  concurrency: PositiveInt.max(512).default(4).meta({ description: "Requests in flight during the latency check." }),
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
      enabled: z
        .boolean()
        .default(false)
        .meta({ description: "Run the labelled-set quality check (MRR@10) after deploy." }),
      minMrrAt10: bounded({
        min: 0,
        aboveMin: true,
        max: 1,
        tooLow: "is 0 or below, so the quality check passes whatever the model answers",
        tooHigh: "MRR@10 is at most 1",
      })
        .default(0.75)
        .meta({
          description:
            "Lowest MRR@10 on the model's labelled queries that passes (a model's own quality.minMrrAt10 wins).",
        }),
    })
    .default({ enabled: false, minMrrAt10: 0.75 })
    .meta({ description: "The post-deploy quality check on labelled queries in the model's languages." }),
  publicPath: z.boolean().optional().meta({
    description:
      "With mode job: after the in-cluster Job, call every model again through the public path (the NLB, TLS, the ingress's routes, keys and limits, the gateway's public URL) from the machine running `pulumi up`; a failure fails the deploy. Default: true in prod (its deploy runner reaches the endpoint), false elsewhere.",
  }),
  publicPathLimits: z
    .strictObject({
      bodySize: z.boolean().default(true).meta({
        description:
          "On the public path, announce a body just over each route's maxBodySize: the ingress must answer its own 413 from the headers (the body is not uploaded, the engine never sees it).",
      }),
      rateLimit: z.boolean().default(true).meta({
        description:
          "On each model's public route, a short burst under a throw-away key must get the ingress's own 429 (with Retry-After) before the configured rate and burst are used up; the requests it admits are refused as unauthorized, so no engine sees them. Then it waits until the limit clears.",
      }),
      maxRequests: PositiveInt.max(20000)
        .default(3000)
        .meta({ description: "Most requests one rate-limit burst sends (it stops at the first 429)." }),
      maxSeconds: bounded({
        min: 1,
        max: 120,
        unit: " s",
        tooLow: "is below 1 s: too short to outrun any rate limit",
        tooHigh: "a burst that long is a load test, not a check",
      })
        .default(20)
        .meta({ description: "Longest the burst, and then the wait for the limit to clear, may take (each)." }),
    })
    .default({ bodySize: true, rateLimit: true, maxRequests: 3000, maxSeconds: 20 })
    .meta({
      description:
        "Checks that the ingress enforces its body-size and rate limits on the public path (local mode and publicPath only). Turn one off for an endpoint you cannot burst.",
    }),
  fingerprint: z
    .strictObject({
      enabled: z.boolean().default(true).meta({ description: "Record and compare each model's fingerprint." }),
      minCosine: z.number().min(0).max(1).default(0.999).meta({
        description:
          "Every probe's cosine to its recorded vector, at least (measured: bf16 vs fp16 noise 0.99995, a mean-pooling change 0.9968; docs/model-changes.md).",
      }),
      maxNormChange: z
        .number()
        .positive()
        .default(0.02)
        .meta({ description: "Largest change of a probe vector's norm, as a fraction (a normalisation change)." }),
      minKendallTau: z.number().min(-1).max(1).default(0.7).meta({ description: "Rerank probes: order vs recorded." }),
      minTop3Overlap: z
        .number()
        .min(0)
        .max(1)
        .default(0.66)
        .meta({ description: "Rerank probes: share of the recorded top 3 still in the top 3." }),
      maxScoreChange: z
        .number()
        .positive()
        .default(0.05)
        .meta({ description: "Rerank probes: largest score change as a fraction of the recorded scores' range." }),
    })
    .default({
      enabled: true,
      minCosine: 0.999,
      maxNormChange: 0.02,
      minKendallTau: 0.7,
      minTop3Overlap: 0.66,
      maxScoreChange: 0.05,
    })
    .meta({
      description:
        "Vector and score fingerprints: recorded by the first verified deploy, compared by every later one and by the canary.",
    }),
  promotion: z
    .strictObject({
      enabled: z.boolean().default(true).meta({ description: "Check promotions against the evidence in Prometheus." }),
      prometheusUrl: z.url().optional().meta({
        description:
          "Prometheus as the verifier reaches it (default: the stack's in-cluster Prometheus for the Job; local mode needs a reachable URL, e.g. a port-forward).",
      }),
      window: z
        .string()
        .regex(/^\d+[mhd]$/)
        .default("24h")
        .meta({ description: "Look-back of the evidence, a PromQL duration." }),
      minShadowCalls: PositiveInt.default(500).meta({ description: "Shadow calls compared in the window, at least." }),
      minKendallTau: z
        .number()
        .min(-1)
        .max(1)
        .default(0.7)
        .meta({ description: "Mean Kendall tau of the shadow's order against the primary's, at least." }),
      minTop3Overlap: z
        .number()
        .min(0)
        .max(1)
        .default(0.8)
        .meta({ description: "Mean top-3 overlap of the shadow with the primary, at least." }),
      minNdcgAt10: z
        .number()
        .min(0)
        .max(1)
        .default(0.9)
        .meta({ description: "Mean NDCG@10 of the shadow's order against the primary's, at least." }),
      maxQualityDrop: z.number().min(0).max(1).default(0.02).meta({
        description: "The candidate's canary MRR@10 and NDCG@10 may be at most this far below the current model's.",
      }),
      override: z.string().min(10).optional().meta({
        description:
          "Emergency only: the reason (an incident id and a sentence) to promote without evidence. The deploy passes, plan.md and the report say so; remove it afterwards.",
      }),
    })
    .default({
      enabled: true,
      window: "24h",
      minShadowCalls: 500,
      minKendallTau: 0.7,
      minTop3Overlap: 0.8,
      minNdcgAt10: 0.9,
      maxQualityDrop: 0.02,
    })
    .meta({
      description:
        "Promotion on evidence: a raised rerank canary weight or an embedding alias switch needs shadow and canary evidence in Prometheus.",
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
