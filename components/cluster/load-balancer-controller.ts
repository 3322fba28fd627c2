/**
 * The AWS Load Balancer Controller: it turns the ingress controller's Service (annotated for an NLB in
 * components/ingress/exposure.ts) into a Network Load Balancer. EKS's in-tree cloud provider ignores those
 * annotations, so without this controller the Service would wait for a load balancer forever.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { NODE_GROUP_LABEL, childOptions } from "../k8s/meta";
import { SYSTEM_NODE_GROUP } from "./node-groups";
import { irsaRole } from "./iam";
import { pinnedRelease } from "../k8s/helm";
import { CHARTS, IMAGES } from "../versions";

/**
 * Chart aws-load-balancer-controller from aws/eks-charts and the controller image it runs, pinned
 * (components/versions.ts; since 3.0 the chart version equals the controller version). The chart needs
 * Kubernetes >= 1.22 (chart README, "Supported Kubernetes Versions"), so every version of EKS_KUBERNETES_VERSIONS (1.32-1.36) is covered.
 */
export const LOAD_BALANCER_CONTROLLER_CHART = {
  ...CHARTS.awsLoadBalancerController,
  appVersion: IMAGES.awsLoadBalancerController.tag,
} as const;
const LOAD_BALANCER_CONTROLLER_NAMESPACE = "kube-system";
const LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller";
/** Leader election: one replica reconciles, the other takes over within seconds when its node goes. */
export const LOAD_BALANCER_CONTROLLER_REPLICAS = 2;
/** The controller tags every ELB, target group and security group it creates with this key = the cluster name. */
export const LBC_CLUSTER_TAG = "elbv2.k8s.aws/cluster";

interface LoadBalancerControllerValuesInput {
  readonly clusterName: string;
  readonly region: string;
  /** The cluster's VPC (an Output in the program, a string in tests). */
  readonly vpcId: unknown;
  /** IAM role the service account assumes (IRSA). */
  readonly roleArn: unknown;
}

/**
 * Helm values: region and VPC given explicitly (no instance-metadata lookups, which IMDSv2 hop limits can block),
 * two replicas (leader election) on the system node group, and no optional AWS integrations.
 */
function loadBalancerControllerValues(input: LoadBalancerControllerValuesInput): Record<string, unknown> {
  return {
    clusterName: input.clusterName,
    region: input.region,
    vpcId: input.vpcId,
    replicaCount: LOAD_BALANCER_CONTROLLER_REPLICAS,
    image: { tag: LOAD_BALANCER_CONTROLLER_CHART.appVersion },
    serviceAccount: {
      create: true,
      name: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
      annotations: { "eks.amazonaws.com/role-arn": input.roleArn },
    },
    nodeSelector: { [NODE_GROUP_LABEL]: SYSTEM_NODE_GROUP },
    priorityClassName: "system-cluster-critical",
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
    podDisruptionBudget: { maxUnavailable: 1 },
    // The controller enables these ALB add-ons by default (--enable-shield/--enable-waf/--enable-wafv2 default true,
    // "Controller configuration options"); we use none and grant no Shield/WAF permissions below.
    enableShield: false,
    enableWaf: false,
    enableWafv2: false,
    // Off: our Service names this controller itself (aws-load-balancer-type: external); the mutating webhook would
    // take over every LoadBalancer Service in the cluster and put a Fail-closed webhook in front of Service creation.
    enableServiceMutatorWebhook: false,
    // The Prometheus Operator CRDs arrive later (Observability depends on the cluster).
    serviceMonitor: { enabled: false },
    // v3 turns its Gateway API controllers on when it finds Gateway CRDs (pkg/gateway/crddetect,
    // PR kubernetes-sigs/aws-load-balancer-controller#4602); we expose through a Service, so keep them off. The third
    // gate, GatewayListenerSet, switches itself off without the ListenerSet CRD, which nothing here installs.
    controllerConfig: { featureGates: { ALBGatewayAPI: false, NLBGatewayAPI: false } },
  };
}

/** One statement of an IAM policy document, typed so that a typo in a key is a compile error. */
interface IamStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<
    Partial<Record<"StringEquals" | "Null", Readonly<Record<string, string | readonly string[]>>>>
  >;
}
export interface IamPolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly IamStatement[];
}

/** AWS partition of a region: the ARNs below must name it (cn-north-1 -> aws-cn). */
function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * IAM policy of the controller, written from its documented policy (kubernetes-sigs/aws-load-balancer-controller
 * docs/install/iam_policy.json, v3.x line as published for v3.5.0, read 2026-11), with two deliberate
 * differences, both narrowing it:
 * - no WAF Regional / WAFv2 / Shield actions and no elasticloadbalancing:SetWebAcl: those add-ons are disabled in
 *   the values above;
 * - where upstream requires only that the `elbv2.k8s.aws/cluster` tag exists (`Null ... "false"`), we require it to
 *   equal this cluster's name: the controller writes exactly that value, and another cluster's controller in the
 *   same account cannot then modify or delete our load balancers, nor ours theirs.
 * Read-only Describe/Get actions are kept as upstream lists them (the controller calls them during discovery).
 */
export function loadBalancerControllerPolicy(clusterName: string, region: string): IamPolicyDocument {
  const p = partitionOf(region);
  const requestTagged = { [`aws:RequestTag/${LBC_CLUSTER_TAG}`]: clusterName };
  const resourceTagged = { [`aws:ResourceTag/${LBC_CLUSTER_TAG}`]: clusterName };
  // The request does not add, change or remove the cluster tag itself (so a tag update cannot re-home a resource).
  const clusterTagUntouched = { [`aws:RequestTag/${LBC_CLUSTER_TAG}`]: "true" };
  const lbAndTargetGroupArns = [
    `arn:${p}:elasticloadbalancing:*:*:targetgroup/*/*`,
    `arn:${p}:elasticloadbalancing:*:*:loadbalancer/net/*/*`,
    `arn:${p}:elasticloadbalancing:*:*:loadbalancer/app/*/*`,
  ];
  const securityGroupArn = `arn:${p}:ec2:*:*:security-group/*`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ElbServiceLinkedRole",
        Effect: "Allow",
        Action: ["iam:CreateServiceLinkedRole"],
        Resource: "*",
        Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
      },
      {
        Sid: "Discovery",
        Effect: "Allow",
        Action: [
          "ec2:DescribeAccountAttributes",
          "ec2:DescribeAddresses",
          "ec2:DescribeAvailabilityZones",
          "ec2:DescribeInternetGateways",
          "ec2:DescribeVpcs",
          "ec2:DescribeVpcPeeringConnections",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeInstances",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeTags",
          "ec2:GetCoipPoolUsage",
          "ec2:DescribeCoipPools",
          "ec2:GetSecurityGroupsForVpc",
          "ec2:DescribeIpamPools",
          "ec2:DescribeRouteTables",
          "elasticloadbalancing:DescribeLoadBalancers",
          "elasticloadbalancing:DescribeLoadBalancerAttributes",
          "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeListenerCertificates",
          "elasticloadbalancing:DescribeSSLPolicies",
          "elasticloadbalancing:DescribeRules",
          "elasticloadbalancing:DescribeTargetGroups",
          "elasticloadbalancing:DescribeTargetGroupAttributes",
          "elasticloadbalancing:DescribeTargetHealth",
          "elasticloadbalancing:DescribeTags",
          "elasticloadbalancing:DescribeTrustStores",
          "elasticloadbalancing:DescribeListenerAttributes",
          "elasticloadbalancing:DescribeCapacityReservation",
        ],
        Resource: "*",
      },
      {
        // TLS certificates (ACM / IAM) and Cognito clients that ALB Ingress annotations refer to: read only.
        Sid: "CertificatesAndAuthRead",
        Effect: "Allow",
        Action: [
          "cognito-idp:DescribeUserPoolClient",
          "acm:ListCertificates",
          "acm:DescribeCertificate",
          "iam:ListServerCertificates",
          "iam:GetServerCertificate",
        ],
        Resource: "*",
      },
      {
        // Upstream grants these unconditionally: the controller opens the node security groups (not created by it,
        // so not tagged) to its load balancers.
        Sid: "NodeSecurityGroupRules",
        Effect: "Allow",
        Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
        Resource: "*",
      },
      { Sid: "CreateSecurityGroup", Effect: "Allow", Action: ["ec2:CreateSecurityGroup"], Resource: "*" },
      {
        Sid: "TagSecurityGroupOnCreate",
        Effect: "Allow",
        Action: ["ec2:CreateTags"],
        Resource: securityGroupArn,
        Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup", ...requestTagged } },
      },
      {
        Sid: "RetagOwnSecurityGroups",
        Effect: "Allow",
        Action: ["ec2:CreateTags", "ec2:DeleteTags"],
        Resource: securityGroupArn,
        Condition: { Null: clusterTagUntouched, StringEquals: resourceTagged },
      },
      {
        Sid: "ManageOwnSecurityGroups",
        Effect: "Allow",
        Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
        Resource: "*",
        Condition: { StringEquals: resourceTagged },
      },
      {
        Sid: "CreateTaggedLoadBalancers",
        Effect: "Allow",
        Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
        Resource: "*",
        Condition: { StringEquals: requestTagged },
      },
      {
        Sid: "ListenersAndRules",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:CreateListener",
          "elasticloadbalancing:DeleteListener",
          "elasticloadbalancing:CreateRule",
          "elasticloadbalancing:DeleteRule",
        ],
        Resource: "*",
      },
      {
        Sid: "RetagOwnLoadBalancers",
        Effect: "Allow",
        Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        Resource: lbAndTargetGroupArns,
        Condition: { Null: clusterTagUntouched, StringEquals: resourceTagged },
      },
      {
        Sid: "TagListenersAndRules",
        Effect: "Allow",
        Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        Resource: [
          `arn:${p}:elasticloadbalancing:*:*:listener/net/*/*/*`,
          `arn:${p}:elasticloadbalancing:*:*:listener/app/*/*/*`,
          `arn:${p}:elasticloadbalancing:*:*:listener-rule/net/*/*/*`,
          `arn:${p}:elasticloadbalancing:*:*:listener-rule/app/*/*/*`,
        ],
      },
      {
        Sid: "ModifyAndDeleteOwnLoadBalancers",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:ModifyLoadBalancerAttributes",
          "elasticloadbalancing:SetIpAddressType",
          "elasticloadbalancing:SetSecurityGroups",
          "elasticloadbalancing:SetSubnets",
          "elasticloadbalancing:DeleteLoadBalancer",
          "elasticloadbalancing:ModifyTargetGroup",
          "elasticloadbalancing:ModifyTargetGroupAttributes",
          "elasticloadbalancing:DeleteTargetGroup",
          "elasticloadbalancing:ModifyListenerAttributes",
          "elasticloadbalancing:ModifyCapacityReservation",
          "elasticloadbalancing:ModifyIpPools",
        ],
        Resource: "*",
        Condition: { StringEquals: resourceTagged },
      },
      {
        Sid: "TagLoadBalancersOnCreate",
        Effect: "Allow",
        Action: ["elasticloadbalancing:AddTags"],
        Resource: lbAndTargetGroupArns,
        Condition: {
          StringEquals: {
            "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"],
            ...requestTagged,
          },
        },
      },
      {
        Sid: "RegisterTargets",
        Effect: "Allow",
        Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
        Resource: `arn:${p}:elasticloadbalancing:*:*:targetgroup/*/*`,
      },
      {
        Sid: "ModifyListenersAndRules",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:ModifyListener",
          "elasticloadbalancing:AddListenerCertificates",
          "elasticloadbalancing:RemoveListenerCertificates",
          "elasticloadbalancing:ModifyRule",
          "elasticloadbalancing:SetRulePriorities",
        ],
        Resource: "*",
      },
    ],
  };
}

interface LoadBalancerControllerArgs {
  readonly provider: k8s.Provider;
  readonly clusterName: string;
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuer: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

/**
 * The controller's IRSA role (only kube-system:aws-load-balancer-controller can assume it) and its Helm release,
 * both children of `parent` (the Cluster component), so that whatever depends on the cluster waits for them.
 */
export function installLoadBalancerController(
  parent: pulumi.Resource,
  name: string,
  args: LoadBalancerControllerArgs,
): k8s.helm.v3.Release {
  const role = irsaRole(
    `${name}-aws-load-balancer-controller`,
    {
      oidcProviderArn: args.oidcProviderArn,
      oidcIssuer: args.oidcIssuer,
      namespace: LOAD_BALANCER_CONTROLLER_NAMESPACE,
      serviceAccount: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
      policy: JSON.stringify(loadBalancerControllerPolicy(args.clusterName, args.region)),
      tags: args.tags,
    },
    parent,
  );
  return pinnedRelease(
    `${name}-aws-load-balancer-controller`,
    {
      name: "aws-load-balancer-controller",
      namespace: LOAD_BALANCER_CONTROLLER_NAMESPACE,
      chart: LOAD_BALANCER_CONTROLLER_CHART,
      values: loadBalancerControllerValues({
        clusterName: args.clusterName,
        region: args.region,
        vpcId: args.vpcId,
        roleArn: role.arn,
      }),
    },
    childOptions(parent, args.provider),
  );
}
