import { z } from "zod";
import { Task } from "../config/common";
import { ActiveHoursSchema } from "../config/serving";
import { LabelledQuerySchema } from "../quality/labelled-set";
import { FingerprintTargetSchema } from "../fingerprint/schema";
import type { VerificationConfig } from "../config/verification";

/** How the checks retry a transient failure (the verifier's HTTP client applies it). */
export interface RetryPolicy {
  /** Retries after the first attempt, for transient failures only. */
  readonly maxRetries: number;
  /** First backoff; doubles per retry, ±25 % jitter, at most maxBackoffMs. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** A server asking for a longer `Retry-After` than this is waited this long (never longer than the deadline). */
  readonly retryAfterCapMs: number;
}

/** The dialect of gateway targets: the gateway answers in OpenAI/Cohere shapes (components/serving/dialects/openai.ts). */
export const GATEWAY_DIALECT = "openai";

/** One answer the ingress gives itself (an error page): status, JSON body, headers it must carry. */
const EdgePageSchema = z.strictObject({
  status: z.number().int().min(100).max(599),
  body: z.unknown(),
  /** Header names the answer carries (e.g. Retry-After). */
  headers: z.array(z.string().min(1)).readonly().default([]),
});
export type EdgePage = z.infer<typeof EdgePageSchema>;

/**
 * What the ingress in front of a public-path target is configured to enforce, and the pages it answers with (the
 * Ingress component's `limits`), so the verifier can prove it on the public path: a body just over `maxBodySize`
 * gets the `tooLarge` page, a short burst over the rate gets the `rateLimit.page`. Absent on in-cluster targets
 * (nothing stands between them and the engine).
 */
const PublicEdgeSchema = z.strictObject({
  /** The route's body limit as configured (NGINX size: "32m", or bytes such as "2000000"). */
  maxBodySize: z.string().regex(/^\d+[kKmMgG]?$/, { message: 'must be an NGINX size such as "32m"' }),
  /** The same limit in bytes. */
  maxBodyBytes: z.number().int().positive(),
  /** The ingress's answer to a body over the limit. */
  tooLarge: EdgePageSchema,
  /**
   * The route's rate limit, summed over the controller replicas as they enforce it (each counts its own share),
   * and what it counts by. Absent where the ingress answers no 429 of its own (the gateway's paths: the gateway
   * answers its per-key limits itself).
   */
  rateLimit: z
    .strictObject({
      /** Requests per second all replicas together admit for one key. */
      requestsPerSecond: z.number().positive(),
      /** Requests all replicas together admit at once on top of the rate. */
      burst: z.number().int().min(0),
      /** Controller replicas, each with its own counter (the bound adds one request per replica). */
      replicas: z.number().int().positive(),
      /** Counted per API key (the Authorization header) rather than per client address. */
      perKey: z.boolean(),
      /** The ingress's answer over the limit. */
      page: EdgePageSchema,
    })
    .optional(),
});
export type PublicEdge = z.infer<typeof PublicEdgeSchema>;
export type PublicEdgeInput = z.input<typeof PublicEdgeSchema>;

/** The public-path limit checks (verification.publicPathLimits): what runs, and its bounds. */
interface PublicPathLimitOptions {
  readonly bodySize: boolean;
  readonly rateLimit: boolean;
  /** Most requests one rate-limit burst may send. */
  readonly maxRequests: number;
  /** Longest the burst and the wait for the limit to clear may take, each. */
  readonly maxSeconds: number;
}

/**
 * One model behind one endpoint, as the checks need it. Plain JSON: the program writes these into the Job's
 * ConfigMap and the dynamic resource's inputs, the CLI builds them from flags or stack outputs. No secrets:
 * the API key travels separately (a Secret, a flag, an environment variable).
 */
export const VerifyTargetSchema = z.strictObject({
  /** Display name (the model's config name; "<model> via gateway" for a gateway target). */
  name: z.string().min(1),
  /**
   * engine: the model's own server, in its engine's dialect. gateway: the stack's one API (components/gateway),
   * `url` its base URL, `servedModel` the stack's model name, the `openai` dialect (OpenAI embeddings, Cohere-like
   * rerank, /v1/models), the gateway's API key (options.gatewayApiKey); plus what the official `openai` client does
   * with its defaults (base64 vectors).
   */
  kind: z.enum(["engine", "gateway"]).default("engine"),
  /** Base URL the dialect's paths are appended to. */
  url: z.url({ message: "must be an http(s) URL such as http://127.0.0.1:8000" }),
  /** Dialect name (components/serving/dialects DIALECTS key). */
  dialect: z.string().min(1),
  task: Task,
  /** The `model` field requests carry: the served model name (vLLM --served-model-name, KServe model_name, Xinference uid). */
  servedModel: z.string().min(1),
  /** Hugging Face id, for reports. */
  modelId: z.string().optional(),
  /** Expected vector size (catalogue dims, or the Matryoshka `dimensions` the model is configured with). */
  dims: z.number().int().positive().optional(),
  /** Matryoshka output size sent with every embedding request. */
  requestDimensions: z.number().int().positive().optional(),
  /** The model L2-normalises its output: vectors must have unit norm. */
  normalized: z.boolean().default(false),
  /** p99 latency objective for the latency check. */
  sloP99Ms: z.number().positive().optional(),
  /**
   * The task endpoint is reached at this exact path under `url` (an ingress route such as
   * /models/bge/v1/embeddings that rewrites to the engine's own path); the engine's health and model-list
   * endpoints are not routed there, so those rows are skipped.
   */
  route: z
    .string()
    .regex(/^\/\S*$/, { message: 'must be an absolute URL path such as "/models/bge/v1/embeddings"' })
    .optional(),
  /**
   * The model scales to zero (replicas.min 0): before the checks, poll the engine's health endpoint until it
   * answers HTTP 200, for at most this many seconds (the program sets KEDA's poll + a new node + the image pull +
   * the model's startup budget; the verifier's own pod is the demand that wakes it). Not used with `route`.
   */
  wakeTimeoutSeconds: z.number().positive().optional(),
  /** Languages of the model (catalogue): the quality check uses the labelled queries in these. */
  languages: z.array(z.string()).optional(),
  /** This model's MRR@10 threshold (models[].quality.minMrrAt10); default options.quality.minMrrAt10. */
  minMrrAt10: z.number().min(0).max(1).optional(),
  /** The model's own labelled set (models[].quality.labelledSet), scored instead of the bundled one. */
  labelledSet: z.array(LabelledQuerySchema).optional(),
  /** Take the model's fingerprint and compare it with the recorded one (components/fingerprint). */
  fingerprint: FingerprintTargetSchema.optional(),
  /** The working hours of a scale-to-zero model (autoscaling.activeHours), named when the wake-up times out. */
  activeHours: ActiveHoursSchema.optional(),
  /** The ingress's limits on the public path to this target (public-path targets only): the edge.* checks prove them. */
  edge: PublicEdgeSchema.optional(),
});
export type VerifyTarget = z.infer<typeof VerifyTargetSchema>;
export type VerifyTargetInput = z.input<typeof VerifyTargetSchema>;

/** Run options: the `verification` config section's knobs, plus test-only overrides of the retry policy. */
export type VerifyOptions = Pick<
  VerificationConfig,
  "requests" | "concurrency" | "timeoutSeconds" | "requestTimeoutSeconds" | "maxRetries" | "quality"
> & {
  readonly apiKey?: string;
  /** Sent to gateway targets (default: apiKey). */
  readonly gatewayApiKey?: string;
  readonly retry?: Partial<Omit<RetryPolicy, "maxRetries">>;
  /** Measure the load generator against an instant local server (default true). */
  readonly checkLoadGenerator?: boolean;
  /** Wake-up phase of scale-to-zero targets: time between health polls, and between "still waiting" lines (tests shorten them). */
  readonly wake?: { readonly pollMs?: number; readonly progressEveryMs?: number };
  /** The edge.* checks of public-path targets (default: DEFAULT_PUBLIC_PATH_LIMITS). */
  readonly publicPathLimits?: PublicPathLimitOptions;
};

export const DEFAULT_PUBLIC_PATH_LIMITS: PublicPathLimitOptions = {
  bodySize: true,
  rateLimit: true,
  maxRequests: 3000,
  maxSeconds: 20,
};

export const DEFAULT_OPTIONS: VerifyOptions = {
  requests: 100,
  concurrency: 4,
  timeoutSeconds: 300,
  requestTimeoutSeconds: 30,
  maxRetries: 2,
  quality: { enabled: false, minMrrAt10: 0.75 },
};
