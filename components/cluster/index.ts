import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ClusterConfig, Environment, GpuNodeGroupConfig } from "../config";

export interface ClusterArgs {
  readonly environment: Environment;
  readonly cluster: ClusterConfig;
  readonly gpuNodeGroups: Readonly<Record<string, GpuNodeGroupConfig>>;
}

/**
 * The Kubernetes cluster the stack runs on: a new EKS cluster (`mode: eks`) or an existing one reached through
 * a kubeconfig (`mode: existing`, which creates no cloud resources). Exposes the Kubernetes provider every other
 * component uses.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  readonly clusterName: pulumi.Output<string>;
  /** kubeconfig of a cluster we created (secret); undefined for existing clusters. */
  readonly kubeconfig: pulumi.Output<string> | undefined;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:cluster:Cluster", name, {}, opts);
    const c = args.cluster;
    if (c.mode === "existing") {
      this.provider = new k8s.Provider(
        `${name}-k8s`,
        { kubeconfig: c.kubeconfigPath, context: c.context, enableServerSideApply: true },
        { parent: this },
      );
      this.clusterName = pulumi.output(c.name);
      this.kubeconfig = undefined;
    } else {
      throw new Error("cluster.mode eks is not implemented yet (issue: GPU capacity)");
    }
    this.registerOutputs({ clusterName: this.clusterName });
  }
}
