import { Environment } from "../components/config/common";
import { profileOf } from "../components/config/environments";
import type { PlatformConfig } from "../components/config/schema";
import type { PolicyContext, PolicyRule } from "./rules/types";

/** The policy context of an environment, from its profile (components/config/environments.ts): no name comparisons. */
export function contextFor(environment: Environment, spotOptInNodeGroups: readonly string[] = []): PolicyContext {
  const profile = profileOf(environment);
  return {
    environment,
    minReplicas: profile.minReplicasFloor,
    minZones: profile.minZones,
    spotNeedsOptIn: profile.spotNeedsOptIn,
    spotOptInNodeGroups,
  };
}

/** The context of a parsed stack config: its environment, and the GPU node groups that opted into spot in prod. */
export function contextFromConfig(config: PlatformConfig): PolicyContext {
  const optIn = Object.entries(config.gpuNodeGroups ?? {})
    .filter(([, g]) => g.allowSpotInProd)
    .map(([name]) => name);
  return contextFor(config.environment, optIn);
}

/** What `pulumi preview --policy-pack-config <file>` gives each policy (one entry per policy name). */
export interface PolicyConfigValues {
  readonly environment?: string;
  readonly spotOptInNodeGroups?: readonly string[];
}

/**
 * The config schema every policy of the pack declares. Without a config file the pack assumes prod, the strictest
 * environment: a forgotten `--policy-pack-config` can only make the check stricter, never weaker.
 */
export const POLICY_CONFIG_SCHEMA = {
  properties: {
    environment: { type: "string" as const, enum: [...Environment.options], default: "prod" },
    spotOptInNodeGroups: { type: "array" as const, items: { type: "string" as const }, default: [] as string[] },
  },
};

export function contextFromPolicyConfig(values: PolicyConfigValues): PolicyContext {
  const env = Environment.safeParse(values.environment ?? "prod");
  if (!env.success)
    throw new Error(
      `policy config: environment ${JSON.stringify(values.environment)} must be one of ${Environment.options.join(", ")}`,
    );
  return contextFor(env.data, values.spotOptInNodeGroups ?? []);
}

/** The `--policy-pack-config` file for one stack: the same values for every policy, so each sees the same context. */
export function policyPackConfigFor(
  ctx: PolicyContext,
  rules: readonly PolicyRule[],
): Record<string, PolicyConfigValues> {
  return Object.fromEntries(
    rules.map((r) => [r.name, { environment: ctx.environment, spotOptInNodeGroups: [...ctx.spotOptInNodeGroups] }]),
  );
}
