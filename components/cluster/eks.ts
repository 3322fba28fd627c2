import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import type { EksClusterConfig, GpuNodeGroupConfig } from "../config";
import { childOptions, standardLabels } from "../k8s/meta";
import {
  GPU_AMI_TYPE,
  SYSTEM_AMI_TYPE,
  zonalGpuNodeGroups,
  zonalSystemNodeGroups,
  type ZonalGpuNodeGroup,
} from "./node-groups";
import { nodeRole, irsaRole } from "./iam";
import { installLoadBalancerController } from "./load-balancer-controller";
import {
  CLUSTER_AUTOSCALER_CHART,
  CLUSTER_AUTOSCALER_NAMESPACE,
  CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
  clusterAutoscalerPolicy,
  clusterAutoscalerValues,
} from "./autoscaler";
import { pinnedRelease } from "../k8s/helm";

/** Subnet sizes per zone inside the VPC CIDR: pods take VPC addresses (VPC CNI), so private subnets are large. */
const PRIVATE_SUBNET_MASK = 19;
const PUBLIC_SUBNET_MASK = 22;

interface EksParts {
  readonly provider: k8s.Provider;
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  /** Every managed node group, by its zonal name. */
  readonly nodeGroups: Readonly<Record<string, eks.ManagedNodeGroup>>;
  /** The cluster's IAM OIDC provider, for IRSA roles. */
  readonly oidc: { readonly oidcProviderArn: pulumi.Output<string>; readonly oidcIssuer: pulumi.Output<string> };
  /** The VPC, its private subnets and the security group EKS puts on the managed nodes (e.g. for ElastiCache). */
  readonly network: ClusterNetwork;
}

export interface ClusterNetwork {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly nodeSecurityGroupId: pulumi.Output<string>;
}

/**
 * A production EKS cluster: VPC over the configured zones (private subnets for nodes, public ones for load
 * balancers), control plane, a system node group, one managed node group per GPU node group and zone with the
 * NVIDIA AMI, the GPU taint and scale-from-zero tags, cluster-autoscaler, the AWS Load Balancer Controller (the NLB
 * of the ingress Service), the EBS CSI driver and a gp3 StorageClass.
 * Built with @pulumi/eks and @pulumi/awsx, which own the VPC/IAM/EKS wiring that we would otherwise hand-write.
 */
export function createEksCluster(
  parent: pulumi.Resource,
  name: string,
  c: EksClusterConfig,
  gpuNodeGroups: Readonly<Record<string, GpuNodeGroupConfig>>,
): EksParts {
  const tags = {
    "retrieval-stack:cluster": c.name,
    "app.kubernetes.io/part-of": "retrieval-stack",
    "app.kubernetes.io/managed-by": "pulumi",
  };
  const opts = { parent };

  const vpc = new awsx.ec2.Vpc(
    `${name}-vpc`,
    {
      cidrBlock: c.vpcCidr,
      availabilityZoneNames: [...c.availabilityZones],
      enableDnsHostnames: true,
      enableDnsSupport: true,
      natGateways: {
        strategy:
          c.natGateways === "single" ? awsx.ec2.NatGatewayStrategy.Single : awsx.ec2.NatGatewayStrategy.OnePerAz,
      },
      subnetStrategy: awsx.ec2.SubnetAllocationStrategy.Auto,
      subnetSpecs: [
        // Tags that let the AWS load balancer controller / in-tree provider pick subnets (EKS user guide, "Subnet requirements").
        {
          type: awsx.ec2.SubnetType.Private,
          cidrMask: PRIVATE_SUBNET_MASK,
          tags: { "kubernetes.io/role/internal-elb": "1" },
        },
        { type: awsx.ec2.SubnetType.Public, cidrMask: PUBLIC_SUBNET_MASK, tags: { "kubernetes.io/role/elb": "1" } },
      ],
      tags,
    },
    opts,
  );

  const cluster = new eks.Cluster(
    `${name}-eks`,
    {
      name: c.name,
      version: c.kubernetesVersion,
      vpcId: vpc.vpcId,
      privateSubnetIds: vpc.privateSubnetIds,
      publicSubnetIds: vpc.publicSubnetIds,
      nodeAssociatePublicIpAddress: false,
      skipDefaultNodeGroup: true,
      authenticationMode: eks.AuthenticationMode.Api,
      createOidcProvider: true,
      endpointPrivateAccess: true,
      endpointPublicAccess: c.endpointPublicAccess,
      // Only the listed CIDRs (a config rule refuses an empty list); EKS's own default would be 0.0.0.0/0.
      publicAccessCidrs: c.endpointPublicAccess ? [...c.publicAccessCidrs] : undefined,
      // The VPC CNI's network policy agent: without it EKS accepts NetworkPolicies and enforces none
      // (@pulumi/eks 4.3.0 writes it as the vpc-cni add-on's configuration value enableNetworkPolicy: "true",
      // the aws-vpc-cni chart key; nodejs/eks/addons/cni-addon.ts, charts/aws-vpc-cni/values.yaml, read 2026-12-01).
      vpcCniOptions: { enableNetworkPolicy: true },
      enabledClusterLogTypes: ["api", "audit", "authenticator"],
      tags,
    },
    opts,
  );
  apiAccessFromRunner(name, c, cluster, tags, parent);
  const kubeconfig = pulumi.secret(cluster.kubeconfigJson);
  const clusterName = cluster.kubeconfigJson.apply(() => c.name);

  const role = nodeRole(`${name}-node-role`, tags, parent);
  const nodeGroups: Record<string, eks.ManagedNodeGroup> = {};

  const s = c.systemNodeGroup;
  // One system node group per zone: the single-replica pods on zonal EBS volumes (Prometheus, Loki, Alertmanager)
  // must find a node in their volume's zone after a reschedule (node-groups.ts zonalSystemNodeGroups).
  const systemGroups: eks.ManagedNodeGroup[] = [];
  for (const zonal of zonalSystemNodeGroups(s, c.availabilityZones)) {
    const systemTemplate = nodeLaunchTemplate(`${name}-${zonal.name}`, s.diskSizeGiB, tags, parent);
    const mng = new eks.ManagedNodeGroup(
      `${name}-${zonal.name}`,
      {
        cluster,
        nodeGroupName: zonal.name,
        nodeRoleArn: role.arn,
        amiType: SYSTEM_AMI_TYPE,
        instanceTypes: [s.instanceType],
        capacityType: "ON_DEMAND",
        // Disk and metadata options live in the launch template, as for the GPU groups.
        launchTemplate: { id: systemTemplate.id, version: systemTemplate.latestVersion.apply(String) },
        // The zone's private subnet: awsx lists subnets in the order of availabilityZoneNames.
        subnetIds: vpc.privateSubnetIds.apply((ids) => [ids[zonal.zoneIndex]!]),
        scalingConfig: { minSize: zonal.minSize, maxSize: zonal.maxSize, desiredSize: zonal.desiredSize },
        // cluster-autoscaler owns the size after creation.
        ignoreScalingChanges: true,
        labels: zonal.labels,
        tags: { ...tags, ...zonal.autoscalerTags },
      },
      opts,
    );
    nodeGroups[zonal.name] = mng;
    systemGroups.push(mng);
  }

  for (const [groupName, group] of Object.entries(gpuNodeGroups)) {
    for (const zonal of zonalGpuNodeGroups(groupName, group, c.availabilityZones)) {
      const gpuTemplate = nodeLaunchTemplate(`${name}-${zonal.name}`, zonal.diskSizeGiB, tags, parent);
      const mng = new eks.ManagedNodeGroup(
        `${name}-${zonal.name}`,
        {
          cluster,
          nodeGroupName: zonal.name,
          nodeRoleArn: role.arn,
          amiType: GPU_AMI_TYPE,
          instanceTypes: [...zonal.instanceTypes],
          capacityType: zonal.capacityType,
          // Disk and metadata options live in the launch template (EKS refuses diskSize next to one).
          launchTemplate: { id: gpuTemplate.id, version: gpuTemplate.latestVersion.apply(String) },
          // The zone's private subnet: awsx lists subnets in the order of availabilityZoneNames.
          subnetIds: vpc.privateSubnetIds.apply((ids) => [ids[zonal.zoneIndex]!]),
          scalingConfig: { minSize: zonal.minSize, maxSize: zonal.maxSize, desiredSize: zonal.desiredSize },
          ignoreScalingChanges: true,
          labels: zonal.labels,
          taints: [zonal.taint],
          tags: { ...tags, ...zonal.autoscalerTags },
        },
        opts,
      );
      nodeGroups[zonal.name] = mng;
      tagAutoscalingGroup(`${name}-${zonal.name}`, mng, zonal, parent);
    }
  }

  const provider = new k8s.Provider(
    `${name}-k8s`,
    { kubeconfig, enableServerSideApply: true },
    { parent, dependsOn: systemGroups },
  );

  const oidc = { oidcProviderArn: cluster.oidcProviderArn, oidcIssuer: cluster.oidcIssuer };
  const ebsRole = irsaRole(
    `${name}-ebs-csi`,
    {
      ...oidc,
      namespace: "kube-system",
      serviceAccount: "ebs-csi-controller-sa",
      managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"],
      tags,
    },
    parent,
  );
  const ebsCsi = new aws.eks.Addon(
    `${name}-ebs-csi`,
    {
      clusterName,
      addonName: "aws-ebs-csi-driver",
      // Absent: EKS installs its default version for the cluster's Kubernetes version (pin with cluster.ebsCsiAddonVersion).
      addonVersion: c.ebsCsiAddonVersion,
      serviceAccountRoleArn: ebsRole.arn,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "PRESERVE",
      tags,
    },
    { parent, dependsOn: systemGroups },
  );
  gp3StorageClass(name, parent, provider, ebsCsi);

  const caRole = irsaRole(
    `${name}-cluster-autoscaler`,
    {
      ...oidc,
      namespace: CLUSTER_AUTOSCALER_NAMESPACE,
      serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
      policy: clusterAutoscalerPolicy(c.name),
      tags,
    },
    parent,
  );
  pinnedRelease(
    `${name}-cluster-autoscaler`,
    {
      name: "cluster-autoscaler",
      namespace: CLUSTER_AUTOSCALER_NAMESPACE,
      chart: CLUSTER_AUTOSCALER_CHART,
      values: clusterAutoscalerValues({
        clusterName: c.name,
        region: c.region,
        kubernetesVersion: c.kubernetesVersion,
        roleArn: caRole.arn,
      }),
    },
    childOptions(parent, provider),
  );

  // Parented to the Cluster component: the Ingress (dependsOn [cluster]) waits for it, and is destroyed before it,
  // so the controller can still delete the NLB it made for the ingress Service.
  installLoadBalancerController(parent, name, {
    provider,
    clusterName: c.name,
    region: c.region,
    vpcId: vpc.vpcId,
    ...oidc,
    tags,
  });

  // Managed node groups without their own security groups get the cluster security group that EKS creates.
  const network = {
    vpcId: vpc.vpcId,
    privateSubnetIds: vpc.privateSubnetIds,
    nodeSecurityGroupId: cluster.clusterSecurityGroupId,
  };
  return { provider, clusterName, kubeconfig, nodeGroups, oidc, network };
}

/**
 * Launch template of every managed node group (system and GPU): IMDSv2 only, with a hop limit of 1, so that a pod
 * (one network hop behind the node) cannot fetch the node role's credentials from the instance metadata service;
 * host-network daemons (VPC CNI, kube-proxy) still can. @pulumi/eks's own `enableIMDSv2` sets the hop limit to 2
 * (nodejs/eks/nodes/nodegroup.ts, v4.3.0, read 2026-12-01), which lets pods through, hence our own template. The
 * pods on the system nodes that need AWS use IRSA and get what IMDS would tell them elsewhere: the load balancer
 * controller and cluster-autoscaler are given region (and VPC) in their values; the EBS CSI driver falls back from
 * IMDS to the Kubernetes API for metadata (kubernetes-sigs/aws-ebs-csi-driver docs/install.md, "Metadata", HEAD
 * 429e202 2026-08-19, read 2026-12-02). Without an AMI id in the template, EKS keeps choosing the AMI from amiType
 * and writes the bootstrap user data itself. The root volume is the AL2023 AMIs' /dev/xvda (the same device
 * @pulumi/eks uses), gp3 and encrypted. Field names: LaunchTemplateMetadataOptions and NodeGroupLaunchTemplate in
 * @pulumi/aws 7.48.0's types (node_modules, read 2026-12-02).
 */
function nodeLaunchTemplate(
  name: string,
  diskSizeGiB: number,
  tags: Record<string, string>,
  parent: pulumi.Resource,
): aws.ec2.LaunchTemplate {
  return new aws.ec2.LaunchTemplate(
    `${name}-lt`,
    {
      metadataOptions: NODE_METADATA_OPTIONS,
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: { volumeSize: diskSizeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
        },
      ],
      tags,
    },
    { parent },
  );
}

/** Instance metadata options of every node (EC2 LaunchTemplate metadataOptions). */
const NODE_METADATA_OPTIONS = {
  httpEndpoint: "enabled",
  httpTokens: "required",
  httpPutResponseHopLimit: 1,
} as const;

/**
 * A self-hosted deploy runner outside the control plane's security group reaches the private endpoint through
 * these rules: HTTPS from each configured CIDR. Nothing for GitHub-hosted runners (public endpoint, publicAccessCidrs).
 */
function apiAccessFromRunner(
  name: string,
  c: EksClusterConfig,
  cluster: eks.Cluster,
  tags: Record<string, string>,
  parent: pulumi.Resource,
): void {
  if (c.deployRunner.type !== "self-hosted") return;
  c.deployRunner.sourceCidrs.forEach((cidr, i) => {
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-api-from-runner-${i}`,
      {
        securityGroupId: cluster.clusterSecurityGroupId,
        description: `deploy runner ${cidr} to the private Kubernetes API endpoint`,
        cidrIpv4: cidr,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        tags,
      },
      { parent },
    );
  });
}

/**
 * EKS does not copy managed-node-group tags to its Auto Scaling group, yet cluster-autoscaler reads the
 * node-template tags from the ASG to scale a group up from zero. Tag the ASG directly, one aws.autoscaling.Tag per key.
 */
function tagAutoscalingGroup(
  prefix: string,
  mng: eks.ManagedNodeGroup,
  zonal: ZonalGpuNodeGroup,
  parent: pulumi.Resource,
): void {
  // nodeGroup is an aws.eks.NodeGroup (its `resources` an Output) when deployed, plain data offline; apply() takes both.
  const asgName = mng.nodeGroup.apply((ng) => ng.resources).apply((r) => r?.[0]?.autoscalingGroups?.[0]?.name ?? "");
  Object.entries(zonal.autoscalerTags).forEach(([key, value]) => {
    const slug = key
      .replace(/^k8s\.io\/cluster-autoscaler\/node-template\//, "")
      .replace(/[^a-zA-Z0-9]+/g, "-")
      .replace(/-+$/, "");
    // Parented to our component, not to the remote node group: the SDK never settles children of a remote
    // component that also consume its outputs (reproduced offline with @pulumi/pulumi 3.248).
    new aws.autoscaling.Tag(
      `${prefix}-${slug}`,
      { autoscalingGroupName: asgName, tag: { key, value, propagateAtLaunch: false } },
      { parent },
    );
  });
}

/** Encrypted gp3 volumes, bound in the zone of the pod that claims them; the cluster's default class. */
function gp3StorageClass(
  name: string,
  parent: pulumi.Resource,
  provider: k8s.Provider,
  ebsCsi: aws.eks.Addon,
): k8s.storage.v1.StorageClass {
  return new k8s.storage.v1.StorageClass(
    `${name}-gp3`,
    {
      metadata: {
        name: "gp3",
        labels: standardLabels("gp3", "storage"),
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
      reclaimPolicy: "Delete",
    },
    childOptions(parent, provider, { dependsOn: [ebsCsi] }),
  );
}
