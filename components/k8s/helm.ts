import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/** A Helm chart at an exact version; `repo` is absent for OCI charts, whose `chart` is the oci:// reference. */
export interface PinnedChart {
  readonly chart: string;
  readonly version: string;
  readonly repo?: string;
}

interface PinnedReleaseArgs {
  /** Helm release name. */
  readonly name: string;
  readonly namespace: pulumi.Input<string>;
  readonly chart: PinnedChart;
  readonly values: pulumi.Input<Record<string, unknown>>;
  /** How long Helm waits for the release's resources to become ready (default 15 minutes). */
  readonly timeoutSeconds?: number;
}

/**
 * Every Helm release of the stack goes through here, so they share one policy: an exact chart version, and an
 * atomic install/upgrade (Helm waits for readiness and rolls a failed upgrade back, uninstalls a failed install),
 * so that `pulumi up` never leaves a half-applied controller behind.
 */
export function pinnedRelease(
  resourceName: string,
  args: PinnedReleaseArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    resourceName,
    {
      name: args.name,
      namespace: args.namespace,
      chart: args.chart.chart,
      version: args.chart.version,
      ...(args.chart.repo ? { repositoryOpts: { repo: args.chart.repo } } : {}),
      values: args.values,
      atomic: true,
      cleanupOnFail: true,
      timeout: args.timeoutSeconds ?? 900,
    },
    opts,
  );
}
