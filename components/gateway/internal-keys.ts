import { createHmac } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayLimits } from "../config/gateway";
import type { VerificationConfig } from "../config/verification";
import type { NamedKey } from "./gateway";

/** The name the post-deploy verification's key has at the gateway (usage, audit lines). */
export const VERIFICATION_KEY_NAME = "verification";
const VERIFICATION_LABEL = "retrieval-stack verification key v1";

/**
 * The post-deploy verification's own key at the gateway: HMAC-SHA256 of the first secrets.apiKeys entry (stable,
 * rotated with it, reveals nothing of it), else one made from the stack's name when the gateway admits anonymous
 * callers anyway (it opens nothing that is not open). Undefined when neither: the verifier then calls without one.
 */
export function verificationGatewayKey(
  apiKeys: pulumi.Output<string[]> | undefined,
  admitsAnonymous: boolean,
  stack: string,
): pulumi.Output<string> | undefined {
  if (apiKeys)
    return pulumi.secret(apiKeys.apply((k) => createHmac("sha256", k[0]!).update(VERIFICATION_LABEL).digest("hex")));
  if (admitsAnonymous) return pulumi.output(createHmac("sha256", stack).update(VERIFICATION_LABEL).digest("hex"));
  return undefined;
}

/**
 * What the verification needs: its whole latency run fits in the burst (requests), sustained at concurrency x 50
 * req/s (a call of 20 ms each); no daily quota. Sized from the stack's verification settings, nothing more.
 */
export function verificationLimits(v: Pick<VerificationConfig, "requests" | "concurrency">): Partial<GatewayLimits> {
  return { requestsPerSecond: Math.max(10, v.concurrency * 50), burst: Math.max(20, v.requests + v.concurrency) };
}

/** The quality canary calls each model a few times per interval: 5 req/s with a burst of 50 is ample. */
export const CANARY_LIMITS: Partial<GatewayLimits> = { requestsPerSecond: 5, burst: 50 };

/** The stack's own callers as the Gateway's named keys: internal (exempt from customer limits and quotas). */
export function internalCallerKeys(i: {
  readonly verification?: { readonly key: pulumi.Output<string>; readonly config: VerificationConfig };
  readonly canary?: { readonly key: pulumi.Output<string>; readonly name: string };
}): NamedKey[] {
  return [
    ...(i.verification
      ? [
          {
            name: VERIFICATION_KEY_NAME,
            key: i.verification.key,
            internal: true,
            limits: verificationLimits(i.verification.config),
          },
        ]
      : []),
    ...(i.canary ? [{ name: i.canary.name, key: i.canary.key, internal: true, limits: CANARY_LIMITS }] : []),
  ];
}
