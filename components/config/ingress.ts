import { z } from "zod";
import { Cidr, PositiveInt } from "./common";

export const TlsSchema = z.discriminatedUnion("mode", [
  /** Plain HTTP: allowed only in the local stack. */
  z.strictObject({ mode: z.literal("none") }),
  /** cert-manager with an ACME issuer (Let's Encrypt by default), HTTP-01 through the ingress. */
  z.strictObject({
    mode: z.literal("acme"),
    email: z.email({ message: "must be an e-mail address the ACME server can send expiry notices to" }),
    server: z.url().default("https://acme-v02.api.letsencrypt.org/directory"),
  }),
  /** cert-manager with a private CA whose key pair is already in a Secret in the cert-manager namespace. */
  z.strictObject({ mode: z.literal("privateCa"), caSecretName: z.string().min(1) }),
  /** A certificate the user manages, already in a kubernetes.io/tls Secret in the ingress namespace. */
  z.strictObject({ mode: z.literal("secret"), secretName: z.string().min(1) }),
]);

export const IngressSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Public host name, e.g. "retrieval.example.com"; required in cloud stacks. */
  host: z
    .string()
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, { message: 'must be a DNS host name such as "retrieval.example.com"' })
    .optional(),
  /** AWS NLB scheme in cloud stacks. */
  exposure: z.enum(["internal", "internet-facing"]).default("internal"),
  /** Source CIDRs allowed to reach the load balancer; empty = anywhere the scheme allows. */
  allowedSourceCidrs: z.array(Cidr).default([]),
  tls: TlsSchema.default({ mode: "none" }),
  rateLimit: z
    .strictObject({
      /** Sustained requests per second per client key. */
      requestsPerSecond: z.number().positive(),
      /** Extra requests allowed in a burst. */
      burst: z.number().int().nonnegative().default(0),
    })
    .default({ requestsPerSecond: 50, burst: 100 }),
  /** Per-model overrides of the rate limit, by model name. */
  modelRateLimits: z.record(z.string(), z.strictObject({ requestsPerSecond: z.number().positive(), burst: z.number().int().nonnegative().default(0) })).default({}),
  /** Largest request body, nginx syntax ("32m"): a rerank call with 100 documents of 32k tokens is ~15 MB. */
  maxBodySize: z.string().regex(/^[0-9]+[km]$/, { message: 'must be an nginx size such as "32m"' }).default("32m"),
  /** Upstream read timeout: long enough for the slowest model (a 4B reranker on long documents). */
  timeoutSeconds: PositiveInt.max(3600).default(300),
});
export type IngressConfig = z.infer<typeof IngressSchema>;
