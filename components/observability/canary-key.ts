import { createHmac } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayConfig } from "../config/gateway";

/** The secrets the canary's key is made from (secrets.apiKeys, secrets.canaryApiKey), as secret Outputs. */
interface CanaryKeySecrets {
  readonly apiKeys?: pulumi.Output<string[]> | undefined;
  readonly canaryApiKey?: pulumi.Output<string> | undefined;
}

/** What the first API key is keyed with to make the canary's: a key of its own that reveals nothing of the first. */
const DERIVATION_LABEL = "retrieval-stack quality canary key v1";

/** Does the gateway admit callers without a key (no apiKeys, no gateway.keys, no JWT: local stacks only)? */
export function gatewayAdmitsAnonymous(gateway: GatewayConfig, apiKeys: CanaryKeySecrets["apiKeys"]): boolean {
  return !apiKeys && Object.keys(gateway.keys).length === 0 && !gateway.jwt;
}

/**
 * The quality canary's API key at the gateway, which knows it under observability.canary.keyName so that its
 * calls are counted apart from every customer's (usage, quotas, audit lines):
 * - secrets.canaryApiKey when set;
 * - else HMAC-SHA256 of the first secrets.apiKeys entry: stable across runs, rotated with that key, and a
 *   leaked canary key does not give the first key away;
 * - else, when the gateway admits anonymous callers anyway, a key made from the stack's name: it only names the
 *   canary's calls (it opens nothing that is not open);
 * - else undefined: the config rules refuse that stack first (observability.canary needs canaryApiKey).
 */
export function canaryApiKey(
  secrets: CanaryKeySecrets,
  gateway: GatewayConfig,
  stack: string,
): pulumi.Output<string> | undefined {
  if (secrets.canaryApiKey) return secrets.canaryApiKey;
  if (secrets.apiKeys)
    return pulumi.secret(
      secrets.apiKeys.apply((keys) => createHmac("sha256", keys[0]!).update(DERIVATION_LABEL).digest("hex")),
    );
  if (gatewayAdmitsAnonymous(gateway, secrets.apiKeys))
    return pulumi.output(createHmac("sha256", stack).update(DERIVATION_LABEL).digest("hex"));
  return undefined;
}
