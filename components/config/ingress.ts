import { z } from "zod";
import { Cidr, PositiveInt } from "./common";
import { fixMessage } from "./errors";
import { HostName, HttpsUrl, NginxSize, ObjectName } from "./formats";

/**
 * A leaky-bucket rate limit (nginx limit_req). NGINX counts in whole requests per second or per minute, so
 * fractional rates are rounded to requests per minute (0.5 -> 30r/m); the slowest is 1 request per minute.
 */
export const RateLimitSchema = z.strictObject({
  requestsPerSecond: z
    .number()
    .gt(0, {
      message: fixMessage(
        "must be greater than 0: a rate of 0 would refuse every request",
        "set the sustained rate you want, e.g. 20 (raise it instead of zeroing it)",
      ),
    })
    .min(1 / 60, {
      message: fixMessage(
        "must be at least 1/60 (one request per minute), the slowest rate NGINX can enforce",
        "use e.g. 0.1 or more",
      ),
    })
    .max(100000, {
      message: fixMessage("must be at most 100000 requests per second", "use a realistic per-client rate, e.g. 100"),
    })
    .meta({ description: "Sustained requests per second per client key." }),
  burst: z
    .number()
    .int({ message: fixMessage("is not a whole number of requests", "write e.g. 100") })
    .nonnegative({ message: fixMessage("is negative", "write 0 or more, e.g. 100") })
    .max(100000, { message: fixMessage("is above 100000", "use a realistic burst, e.g. 100") })
    .default(0)
    .meta({
      description: "Extra requests accepted at once above the sustained rate (served immediately, not queued).",
    }),
});
export type RateLimitConfig = z.infer<typeof RateLimitSchema>;

export const TlsSchema = z.discriminatedUnion("mode", [
  /** Plain HTTP: allowed only in the local stack. */
  z.strictObject({ mode: z.literal("none").meta({ description: "Plain HTTP (local stack only)." }) }),
  /** cert-manager with an ACME issuer (Let's Encrypt by default), HTTP-01 through the ingress. */
  z.strictObject({
    mode: z.literal("acme").meta({ description: "cert-manager with an ACME issuer (Let's Encrypt by default)." }),
    email: z
      .email({
        message: fixMessage("is not an e-mail address", "give one the ACME server can send expiry notices to"),
      })
      .meta({ description: "Where the ACME server sends expiry notices." }),
    server: HttpsUrl.default("https://acme-v02.api.letsencrypt.org/directory"),
  }),
  /** cert-manager with a private CA whose key pair is already in a Secret in the cert-manager namespace. */
  z.strictObject({
    mode: z.literal("privateCa").meta({ description: "cert-manager with a private CA." }),
    caSecretName: ObjectName.meta({ description: "Secret in the cert-manager namespace holding the CA's key pair." }),
  }),
  /**
   * A certificate the user manages, already in a kubernetes.io/tls Secret in the models namespace ("retrieval"):
   * the VirtualServer that terminates TLS lives there, and NGINX Ingress Controller reads TLS secrets only from
   * the VirtualServer's own namespace.
   */
  z.strictObject({
    mode: z.literal("secret").meta({ description: "A certificate you manage in a kubernetes.io/tls Secret." }),
    secretName: ObjectName.meta({ description: 'The TLS Secret, in the models namespace ("retrieval").' }),
  }),
]);

export const IngressSchema = z.strictObject({
  enabled: z.boolean().default(true).meta({ description: "Deploy the NGINX ingress and the model routes." }),
  host: HostName.optional().meta({
    description: 'Public host name, e.g. "retrieval.example.com"; required in cloud stacks.',
  }),
  exposure: z
    .enum(["internal", "internet-facing"])
    .default("internal")
    .meta({ description: "AWS NLB scheme in cloud stacks." }),
  allowedSourceCidrs: z
    .array(Cidr)
    .default([])
    .meta({ description: "Source CIDRs allowed to reach the load balancer; empty = anywhere the scheme allows." }),
  tls: TlsSchema.default({ mode: "none" }).meta({
    description: "TLS at the entry point: none (local only), acme, privateCa or a Secret you manage.",
  }),
  rateLimit: RateLimitSchema.default({ requestsPerSecond: 50, burst: 100 }).meta({
    description:
      "Default rate limit of every model route, per API key (per client IP when no keys are set, local only).",
  }),
  modelRateLimits: z
    .record(z.string(), RateLimitSchema)
    .default({})
    .meta({ description: "Per-model overrides of the rate limit, by model name." }),
  maxBodySize: NginxSize.default("32m").meta({
    description:
      'Largest request body, nginx syntax ("32m"): a rerank call with 100 documents of 32k tokens is ~15 MB.',
  }),
  timeoutSeconds: PositiveInt.max(3600).default(300).meta({
    description: "Upstream read timeout: long enough for the slowest model (a 4B reranker on long documents).",
  }),
  controllerReplicas: PositiveInt.max(20).optional().meta({
    description: "NGINX controller replicas; defaults to 2 in cloud stacks (spread over zones) and 1 in local.",
  }),
});
export type IngressConfig = z.infer<typeof IngressSchema>;
