import type { Environment } from "./common";

/**
 * What each environment means for defaults that are not per-model config. One table, so that nothing else
 * compares environment names.
 */
export interface EnvironmentProfile {
  /** A cloud stack (needs a host, TLS, API keys). */
  readonly cloud: boolean;
  /** Fewest replicas a model may run (0 = scale to zero allowed). */
  readonly minReplicasFloor: number;
  /** Rollout: Recreate frees the GPU before the new pod needs it (no spare GPU in dev). */
  readonly rollout: "Recreate" | "RollingUpdate";
  /** Plain HTTP allowed. */
  readonly allowPlainHttp: boolean;
  /** Spot-only GPU node groups need an explicit opt-in. */
  readonly spotNeedsOptIn: boolean;
  /** Fewest availability zones for an EKS cluster. */
  readonly minZones: number;
  /** Ingress redirects HTTP to HTTPS. */
  readonly forceHttps: boolean;
  /** observability.runbookBaseUrl must be set: every alert that pages someone carries a runbook_url. */
  readonly runbookLinksRequired: boolean;
}

export const ENVIRONMENT_PROFILES: Readonly<Record<Environment, EnvironmentProfile>> = {
  local: {
    cloud: false,
    minReplicasFloor: 0,
    rollout: "Recreate",
    allowPlainHttp: true,
    spotNeedsOptIn: false,
    minZones: 1,
    forceHttps: false,
    runbookLinksRequired: false,
  },
  dev: {
    cloud: true,
    minReplicasFloor: 0,
    rollout: "Recreate",
    allowPlainHttp: false,
    spotNeedsOptIn: false,
    minZones: 1,
    forceHttps: false,
    runbookLinksRequired: false,
  },
  staging: {
    cloud: true,
    minReplicasFloor: 2,
    rollout: "RollingUpdate",
    allowPlainHttp: false,
    spotNeedsOptIn: false,
    minZones: 2,
    forceHttps: true,
    runbookLinksRequired: false,
  },
  prod: {
    cloud: true,
    minReplicasFloor: 2,
    rollout: "RollingUpdate",
    allowPlainHttp: false,
    spotNeedsOptIn: true,
    minZones: 3,
    forceHttps: true,
    runbookLinksRequired: true,
  },
};

export function profileOf(environment: Environment): EnvironmentProfile {
  return ENVIRONMENT_PROFILES[environment];
}
