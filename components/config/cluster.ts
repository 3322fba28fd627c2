import { z } from "zod";
import { Cidr, NonNegativeInt } from "./common";
import { fixMessage } from "./errors";
import { NodeLabels, safeString } from "./formats";

/**
 * Node counts above this are taken for a typo (1e12): no stack of this project runs that many nodes in one group.
 * Not an AWS quota; raise it here if you really need more.
 */
export const MAX_NODES_PER_GROUP = 1000;
const NodeCount = NonNegativeInt.max(MAX_NODES_PER_GROUP, {
  message: fixMessage(
    `is above ${MAX_NODES_PER_GROUP} nodes, which this project takes for a typo`,
    "use a realistic node count",
  ),
});
/** Root volumes: EC2 launch templates take gp3 volumes of 1-16,384 GiB (EC2 API reference, read 2026-12-01). */
const DiskGiB = (min: number) =>
  z
    .number()
    .int()
    .min(min)
    .max(16384, {
      message: fixMessage(
        "is above 16384 GiB, the largest gp3 root volume a launch template takes",
        "use at most 16384",
      ),
    });

/** Pack several small models on one GPU (time-slicing) or partition it (MIG, A100/H100 only). */
export const GpuSharingSchema = z.strictObject({
  timeSlicingReplicas: z.number().int().min(2).max(48).optional().meta({
    description: "Advertise each physical GPU as this many `nvidia.com/gpu` (no memory isolation between them).",
  }),
  migStrategy: z.enum(["none", "single", "mixed"]).default("none").meta({
    description:
      "MIG strategy given to the NVIDIA device plugin (its flags.migStrategy); anything but none needs MIG-capable GPUs (A100/H100) and excludes timeSlicingReplicas.",
  }),
});

export const GpuNodeGroupSchema = z.strictObject({
  instanceTypes: z.array(z.string().min(1)).min(1).meta({
    description:
      "EC2 instance types from the GPU catalogue (components/cluster/instances.ts); all must have the same GPU.",
  }),
  capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND").meta({
    description: "EC2 capacity type of the managed node group: on-demand or spot (cheaper, may be reclaimed).",
  }),
  minSize: NodeCount.meta({
    description:
      "Fewest nodes. Sizes are totals across the cluster's zones (EKS mode splits them evenly, one managed node group per zone).",
  }),
  maxSize: NodeCount.min(1).meta({ description: "Most nodes the autoscaler may run (total across zones)." }),
  desiredSize: NodeCount.optional().meta({
    description: "Nodes at creation (total across zones); defaults to minSize.",
  }),
  diskSizeGiB: DiskGiB(50)
    .default(200)
    .meta({ description: "Root volume (gp3), sized for model weights and the image layers (vLLM images are ~10 GB)." }),
  sharing: GpuSharingSchema.default({ migStrategy: "none" }).meta({
    description: "Pack several small models on one GPU (time-slicing) or partition it (MIG).",
  }),
  allowSpotInProd: z.boolean().default(false).meta({
    description:
      "Spot capacity in prod is refused unless this is set: a reclaimed node drops a replica without warning.",
  }),
  labels: NodeLabels.default({}).meta({ description: "Extra Kubernetes labels on the group's nodes." }),
});
export type GpuNodeGroupConfig = z.infer<typeof GpuNodeGroupSchema>;

const NodeGroupSize = z.strictObject({
  instanceType: z.string().min(1).meta({ description: 'EC2 instance type of the nodes, e.g. "m6i.xlarge".' }),
  minSize: NodeCount.min(1, {
    message: fixMessage(
      "is 0: with no system node, nothing runs CoreDNS or the cluster-autoscaler that would add one",
      "set at least 1 (one per zone is better)",
    ),
  }).meta({ description: "Fewest nodes (total across zones); at least 1, for CoreDNS and the autoscaler." }),
  maxSize: NodeCount.min(1).meta({ description: "Most nodes the autoscaler may run (total across zones)." }),
  desiredSize: NodeCount.optional().meta({
    description: "Nodes at creation (total across zones); defaults to minSize.",
  }),
  diskSizeGiB: DiskGiB(20).default(50).meta({ description: "Root volume (gp3) of each node." }),
});

/**
 * Where the deploy workflow runs `pulumi up` (.github/workflows/deploy-stack.yml reads it; docs/deploying.md).
 * A GitHub-hosted runner reaches the API server only over the public endpoint; a self-hosted runner with a
 * network path to the VPC (in it, or in a peered/transit-connected network) can use the private endpoint.
 */
export const DeployRunnerSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("github-hosted").meta({ description: "A GitHub-hosted runner: reaches only the public endpoint." }),
  }),
  z.strictObject({
    type: z
      .literal("self-hosted")
      .meta({ description: "Your own runner, with a network path to the VPC (may use the private endpoint)." }),
    labels: z
      .array(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
          message: 'must be a runner label of letters, digits, ".", "_" and "-", e.g. "retrieval-prod"',
        }),
      )
      .min(1)
      .meta({
        description:
          "`runs-on` labels of the runner (GitHub matches a runner that has all of them), e.g. [self-hosted, linux, x64, retrieval-prod].",
      }),
    sourceCidrs: z.array(Cidr).default([]).meta({
      description:
        "Source CIDRs of the runner's network that may open HTTPS (443) to the private API endpoint, added to the control plane's security group. Empty: the runner reaches it some other way (e.g. it runs on this cluster's nodes).",
    }),
  }),
]);
export type DeployRunnerConfig = z.infer<typeof DeployRunnerSchema>;

export const ExistingClusterSchema = z.strictObject({
  mode: z
    .literal("existing")
    .meta({ description: "Deploy onto a cluster you already run (kind, Docker Desktop, any)." }),
  kubeconfigPath: safeString(4096).min(1).optional().meta({
    description:
      "Path of a kubeconfig file; defaults to the Kubernetes provider's own lookup ($KUBECONFIG, ~/.kube/config).",
  }),
  context: safeString(253)
    .min(1)
    .optional()
    .meta({ description: 'kubeconfig context, e.g. "kind-retrieval" or "docker-desktop".' }),
  name: safeString(100).min(1).meta({ description: "The existing cluster's name, for outputs and dashboards." }),
  gpuRuntimePreinstalled: z.boolean().default(false).meta({
    description:
      "The cluster already runs the NVIDIA device plugin and DCGM exporter (e.g. the NVIDIA GPU Operator): install neither.",
  }),
  deployRunner: DeployRunnerSchema.default({ type: "github-hosted" }).meta({
    description: "The runner that deploys this stack: self-hosted when the existing cluster's API server is private.",
  }),
});

export const EksClusterSchema = z.strictObject({
  mode: z.literal("eks").meta({ description: "Create an EKS cluster with its VPC, node groups and add-ons." }),
  name: z
    .string()
    .regex(/^[a-z][-a-z0-9]{1,38}$/, {
      message: fixMessage(
        'is not an EKS cluster name of this project (lowercase letters, digits and "-")',
        'use e.g. "retrieval-prod"',
      ),
    })
    .meta({ description: 'EKS cluster name, also the prefix of its AWS resources, e.g. "retrieval-prod".' }),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: fixMessage("is not an AWS region", 'write e.g. "us-east-1"') })
    .meta({ description: 'AWS region, e.g. "us-east-1".' }),
  // The default is DEFAULT_EKS_KUBERNETES_VERSION of components/versions.ts (in EKS standard support until
  // 2027-03-27; test/versions.test.ts keeps the two equal): config imports nothing of ours.
  kubernetesVersion: z
    .string()
    .regex(/^1\.\d{2}$/, { message: fixMessage("is not a Kubernetes minor version", 'write e.g. "1.35" (quoted)') })
    .default("1.35")
    .meta({
      description:
        'Kubernetes minor version of the control plane, quoted, e.g. "1.35" (the default). Accepted: the versions with a pinned cluster-autoscaler in docs/versions.md; one past or within 60 days of the end of EKS standard support plans with a warning.',
    }),
  availabilityZones: z
    .array(
      z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, {
        message: fixMessage(
          "is not an AWS availability zone name",
          'write the region and a zone letter, e.g. "us-east-1a"',
        ),
      }),
    )
    .meta({ description: "Zones that nodes and load balancers use; GPU node groups spread over all of them." }),
  vpcCidr: Cidr.default("10.40.0.0/16").meta({
    description: "Address range of the VPC this stack creates; its subnets are carved from it.",
  }),
  natGateways: z.enum(["onePerZone", "single"]).default("onePerZone").meta({
    description:
      "NAT gateways: one per zone (a zone's loss keeps the others online; the default) or a single one (cheaper, for dev).",
  }),
  endpointPublicAccess: z.boolean().default(false).meta({
    description:
      'Public API endpoint, off by default (the private endpoint is always on). When on, publicAccessCidrs must list who may reach it; ["0.0.0.0/0"] (the whole internet) is only ever an explicit choice.',
  }),
  publicAccessCidrs: z
    .array(Cidr)
    .default([])
    .meta({ description: "Source CIDRs allowed to reach the public API endpoint (with endpointPublicAccess)." }),
  deployRunner: DeployRunnerSchema.default({ type: "github-hosted" }).meta({
    description: "The runner that deploys this stack; GitHub-hosted needs endpointPublicAccess (config rule).",
  }),
  systemNodeGroup: NodeGroupSize.meta({
    description: "CPU nodes for controllers, the gateway and monitoring (sizes are totals across zones).",
  }),
  ebsCsiAddonVersion: z
    .string()
    .regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/, {
      message: fixMessage("is not an EKS add-on version", 'write e.g. "v1.48.0-eksbuild.1"'),
    })
    .optional()
    .meta({
      description:
        "Version of the EKS add-on aws-ebs-csi-driver (`aws eks describe-addon-versions`); EKS's default for kubernetesVersion when absent.",
    }),
  nodeAutoscaler: z.enum(["cluster-autoscaler", "karpenter"]).default("cluster-autoscaler").meta({
    description: "Node autoscaler: cluster-autoscaler (the default); karpenter is not implemented yet and is refused.",
  }),
});

export const ClusterSchema = z.discriminatedUnion("mode", [ExistingClusterSchema, EksClusterSchema]);
export type ClusterConfig = z.infer<typeof ClusterSchema>;
export type EksClusterConfig = z.infer<typeof EksClusterSchema>;
export type ExistingClusterConfig = z.infer<typeof ExistingClusterSchema>;
