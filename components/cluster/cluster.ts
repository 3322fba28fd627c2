import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ClusterConfig, Environment, GpuNodeGroupConfig, ModelConfig } from "../config";
import { createEksCluster, type ClusterNetwork } from "./eks";
import { gpuCapacity, type GpuNodeGroupCapacity } from "./capacity";

export interface ClusterArgs {
  /** `local`, `dev`, `staging` or `prod`: zones, node counts and spot use follow the environment's profile. */
  readonly environment: Environment;
  /** The `cluster` config section: a new EKS cluster (region, version, VPC, system nodes) or an existing one (kubeconfig, context). */
  readonly cluster: ClusterConfig;
  /** The `gpuNodeGroups` config section: one managed node group per zone for each, with the GPU taint and labels. */
  readonly gpuNodeGroups: Readonly<Record<string, GpuNodeGroupConfig>>;
  /**
   * Models, to report the GPUs they request per node group (`gpuCapacity`).
   * @default none: no request is counted
   */
  readonly models?: readonly ModelConfig[];
}

/** A GPU node group as the stack output lists it. */
export interface GpuNodeGroupSummary {
  readonly nodeGroup: string;
  readonly gpuClass: string;
  readonly instanceType: string;
  /** The EKS managed node groups it consists of (one per zone); empty for an existing cluster. */
  readonly managedNodeGroups: readonly string[];
}

/**
 * The Kubernetes cluster the stack runs on: a new EKS cluster (`mode: eks`) or an existing one reached through
 * a kubeconfig (`mode: existing`, which creates no cloud resources: GPU node groups declared for an existing
 * cluster describe pools that already exist and must carry the labels and taint of docs/gpu-capacity.md).
 * Exposes the Kubernetes provider every other component uses.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  readonly clusterName: pulumi.Output<string>;
  /** kubeconfig of a cluster we created (secret); undefined for existing clusters. */
  readonly kubeconfig: pulumi.Output<string> | undefined;
  readonly gpuNodeGroups: readonly GpuNodeGroupSummary[];
  /** GPUs and monthly cost per GPU node group at min and max scale. */
  readonly gpuCapacity: readonly GpuNodeGroupCapacity[];
  /** An existing cluster that already runs a device plugin and DCGM exporter (GpuRuntime installs neither). */
  readonly gpuRuntimePreinstalled: boolean;
  /**
   * The EKS cluster's IAM OIDC provider (for IRSA roles of components outside this one, e.g. Loki's S3 access);
   * undefined for an existing cluster, whose OIDC provider, if any, we do not know.
   */
  readonly oidc:
    { readonly oidcProviderArn: pulumi.Output<string>; readonly oidcIssuer: pulumi.Output<string> } | undefined;

  /** VPC, private subnets and nodes' security group of an EKS cluster we created; undefined for existing ones. */
  readonly network: ClusterNetwork | undefined;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:cluster:Cluster", name, {}, opts);
    const c = args.cluster;
    this.gpuRuntimePreinstalled = c.mode === "existing" && c.gpuRuntimePreinstalled;
    this.gpuCapacity = gpuCapacity(args.gpuNodeGroups, args.models ?? []);
    const zonalNames = (group: string) => (c.mode === "eks" ? c.availabilityZones.map((z) => `${group}-${z}`) : []);
    this.gpuNodeGroups = this.gpuCapacity.map((g) => ({
      nodeGroup: g.nodeGroup,
      gpuClass: g.gpuClass,
      instanceType: g.instanceType,
      managedNodeGroups: zonalNames(g.nodeGroup),
    }));

    if (c.mode === "existing") {
      this.provider = new k8s.Provider(
        `${name}-k8s`,
        { kubeconfig: c.kubeconfigPath, context: c.context, enableServerSideApply: true },
        { parent: this },
      );
      this.clusterName = pulumi.output(c.name);
      this.kubeconfig = undefined;
      this.oidc = undefined;
      this.network = undefined;
    } else {
      const eks = createEksCluster(this, name, c, args.gpuNodeGroups);
      this.provider = eks.provider;
      this.clusterName = eks.clusterName;
      this.kubeconfig = eks.kubeconfig;
      this.oidc = eks.oidc;
      this.network = eks.network;
    }
    this.registerOutputs({
      clusterName: this.clusterName,
      gpuNodeGroups: this.gpuNodeGroups,
      gpuCapacity: this.gpuCapacity,
    });
  }
}

export { gpuCapacity, clusterBaseCost, type GpuNodeGroupCapacity, type ClusterBaseCost } from "./capacity";
