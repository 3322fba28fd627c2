import type * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/** A ServiceMonitor as a pure planner returns it: what createServiceMonitor takes. */
export interface ServiceMonitorPlan {
  readonly metadata: k8s.types.input.meta.v1.ObjectMeta;
  readonly spec: Record<string, unknown>;
}

/**
 * A Prometheus Operator ServiceMonitor (monitoring.coreos.com/v1): the one place our components create one. The
 * spec (selector, endpoints) is each caller's; the CRD comes with kube-prometheus-stack (components/observability),
 * which is why every caller only creates one when monitoring is on.
 */
export function createServiceMonitor(
  name: string,
  metadata: k8s.types.input.meta.v1.ObjectMeta,
  spec: pulumi.Input<Record<string, unknown>>,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    name,
    { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata, spec },
    opts,
  );
}
