import { NODE_GROUP_LABEL } from "../k8s/meta";
import { SYSTEM_NODE_GROUP } from "./node-groups";
import { CHARTS, CLUSTER_AUTOSCALER_TAG_BY_KUBERNETES_MINOR } from "../versions";

/** cluster-autoscaler Helm chart, pinned (components/versions.ts). */
export const CLUSTER_AUTOSCALER_CHART = CHARTS.clusterAutoscaler;
export const CLUSTER_AUTOSCALER_NAMESPACE = "kube-system";
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";

/** cluster-autoscaler must run the minor version of the cluster it scales: one image tag per minor (versions.ts). */
export const CLUSTER_AUTOSCALER_IMAGE_TAGS = CLUSTER_AUTOSCALER_TAG_BY_KUBERNETES_MINOR;

interface AutoscalerValuesInput {
  readonly clusterName: string;
  readonly region: string;
  readonly kubernetesVersion: string;
  /** IAM role the service account assumes (IRSA); an Output in the program, a string in tests. */
  readonly roleArn: unknown;
}

/** Helm values for cluster-autoscaler on EKS managed node groups, auto-discovering them by tag. */
export function clusterAutoscalerValues(input: AutoscalerValuesInput): Record<string, unknown> {
  const tag = CLUSTER_AUTOSCALER_IMAGE_TAGS[input.kubernetesVersion];
  if (!tag)
    throw new Error(
      `no cluster-autoscaler image for Kubernetes ${input.kubernetesVersion} (the config rules should have refused it)`,
    );
  return {
    cloudProvider: "aws",
    awsRegion: input.region,
    // EKS tags every managed node group's ASG with k8s.io/cluster-autoscaler/enabled and .../<cluster-name>.
    autoDiscovery: { clusterName: input.clusterName },
    image: { tag },
    rbac: {
      serviceAccount: {
        create: true,
        name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
        annotations: { "eks.amazonaws.com/role-arn": input.roleArn },
      },
    },
    extraArgs: {
      // One node group per zone for each GPU group: keep zones even when scaling.
      "balance-similar-node-groups": true,
      // Pick the group that wastes the least CPU/memory/GPU after placing the pending pods.
      expander: "least-waste",
      "skip-nodes-with-system-pods": false,
      "skip-nodes-with-local-storage": false,
      // GPU nodes with the NVIDIA AMI take several minutes to join and to advertise nvidia.com/gpu.
      "max-node-provision-time": "20m",
      // Model pods take minutes to load; do not remove a node right after adding it.
      "scale-down-delay-after-add": "10m",
      "scale-down-unneeded-time": "10m",
    },
    replicaCount: 1,
    priorityClassName: "system-cluster-critical",
    nodeSelector: { [NODE_GROUP_LABEL]: SYSTEM_NODE_GROUP },
    resources: { requests: { cpu: "100m", memory: "300Mi" }, limits: { memory: "600Mi" } },
    podDisruptionBudget: { maxUnavailable: 1 },
  };
}

/**
 * Least-privilege IAM policy for cluster-autoscaler (cluster-autoscaler cloudprovider/aws README, "Full Cluster
 * Autoscaler Features Policy (Recommended)", read 2026-11): read everywhere, change only ASGs tagged as owned by
 * this cluster. eks:DescribeNodegroup lets it read labels/taints of managed node groups scaled to zero.
 */
export function clusterAutoscalerPolicy(clusterName: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          "eks:DescribeNodegroup",
        ],
        Resource: ["*"],
      },
      {
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Resource: ["*"],
        Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
      },
    ],
  });
}
