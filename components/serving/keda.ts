import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { childOptions, standardLabels } from "../k8s/meta";
import { KEDA_NAMESPACE, NAMESPACE_POD_SECURITY, podSecurityLabels } from "../k8s/namespaces";
import { pinnedRelease } from "../k8s/helm";
import { CHARTS } from "../versions";

/**
 * KEDA chart, pinned (components/versions.ts). ScaledObjects are keda.sh/v1alpha1 (validated offline by
 * @kubernetes-models/keda).
 */
export const KEDA_CHART = CHARTS.keda;

export interface KedaArgs {
  /** The `k8s.Provider` of the target cluster: every child is created with it. */
  readonly provider: k8s.Provider;
  /** Scrape KEDA's own metrics (needs the Prometheus Operator CRDs). */
  readonly monitoring: boolean;
}

/** The KEDA operator and metrics API server: the autoscaler of every ModelService (see autoscaling.ts for why). */
export class Keda extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: KedaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:serving:Keda", name, {}, opts);
    const o = (extra?: pulumi.CustomResourceOptions) => childOptions(this, args.provider, extra);
    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: KEDA_NAMESPACE,
          labels: {
            ...standardLabels("keda", "autoscaling"),
            ...podSecurityLabels(NAMESPACE_POD_SECURITY[KEDA_NAMESPACE]!.level),
          },
        },
      },
      o(),
    );
    this.release = pinnedRelease(
      name,
      {
        name: "keda",
        namespace: KEDA_NAMESPACE,
        chart: KEDA_CHART,
        values: {
          crds: { install: true },
          prometheus: {
            operator: { enabled: args.monitoring, serviceMonitor: { enabled: args.monitoring } },
            metricServer: { enabled: args.monitoring, serviceMonitor: { enabled: args.monitoring } },
          },
          resources: {
            operator: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
            metricServer: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
          },
        },
      },
      o({ dependsOn: [ns] }),
    );
    this.registerOutputs({});
  }
}
