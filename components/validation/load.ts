import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "./stack-config";
import type { PlatformConfig } from "../config/schema";
import type { SecretInputs, SecretsConfig } from "../config/secrets";

export type { SecretInputs };
import { ConfigError } from "../config/errors";

export interface LoadedConfig {
  readonly config: PlatformConfig;
  readonly secrets: SecretInputs;
}

/** Reads every `retrieval-stack:*` key of the current stack and validates it (throws ConfigError). */
export function loadPlatformConfig(source = `stacks/Pulumi.${pulumi.getStack()}.yaml`): LoadedConfig {
  // Every key, not only ours: a misspelt namespace (`retreival-stack:models`) and aws:region are checked too.
  const all = pulumi.runtime.allConfig();
  const secretKeys = Object.keys(all).filter(isConfigSecret);
  try {
    const config = parseStackConfig({ config: all, secretKeys }, source);
    return { config, secrets: secretInputs(config.secrets) };
  } catch (e) {
    // RunError makes `pulumi up` print just the message (every problem, with its fix), without a stack trace.
    if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
    throw e;
  }
}

/**
 * Whether Pulumi holds a config key as a secret. The SDK exports `runtime.isConfigSecret` (marked internal);
 * its typings omit it, so it is reached through a narrow cast and checked at run time.
 */
function isConfigSecret(fullKey: string): boolean {
  const fn = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  if (typeof fn !== "function")
    throw new Error("@pulumi/pulumi no longer exports runtime.isConfigSecret; plain-text secrets cannot be detected");
  return fn(fullKey);
}

export function secretInputs(secrets: SecretsConfig): SecretInputs {
  const wrap = <T>(v: T | undefined) => (v === undefined ? undefined : pulumi.secret(v));
  return {
    hfToken: wrap(secrets.hfToken),
    apiKeys: wrap(secrets.apiKeys),
    canaryApiKey: wrap(secrets.canaryApiKey),
    grafanaAdminPassword: wrap(secrets.grafanaAdminPassword),
    alertReceiverUrls: wrap(secrets.alertReceiverUrls),
  } as SecretInputs;
}
