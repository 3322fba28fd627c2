import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { formerlyNamed } from "../k8s/meta";

/** AWS managed policies every EKS worker node needs (EKS user guide, "Amazon EKS node IAM role", read 2026-11). */
const NODE_ROLE_POLICIES = [
  "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
  "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  // Session Manager instead of SSH keys for break-glass access to nodes.
  "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
] as const;

/** The IAM role EC2 nodes of every managed node group assume. */
export function nodeRole(name: string, tags: Record<string, string>, parent: pulumi.Resource): aws.iam.Role {
  const role = new aws.iam.Role(
    name,
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    },
    { parent },
  );
  NODE_ROLE_POLICIES.forEach((policyArn) => {
    new aws.iam.RolePolicyAttachment(
      `${name}-${policyArn.split("/").pop()!.toLowerCase().replace(/_/g, "-")}`,
      { role: role.name, policyArn },
      { parent },
    );
  });
  return role;
}

interface IrsaRoleArgs {
  /** ARN of the cluster's IAM OIDC provider. */
  readonly oidcProviderArn: pulumi.Input<string>;
  /** Issuer host and path, without https:// (e.g. oidc.eks.us-east-1.amazonaws.com/id/ABC). */
  readonly oidcIssuer: pulumi.Input<string>;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Inline policy (JSON). */
  readonly policy?: pulumi.Input<string>;
  /** Managed policies to attach. */
  readonly managedPolicyArns?: readonly string[];
  readonly tags: Record<string, string>;
  /** The role's resource name in stacks created before it was `name`: it and its policies keep their state. */
  readonly formerName?: string;
}

/**
 * An IAM role only one Kubernetes service account can assume (IRSA). Used only where a controller calls AWS APIs:
 * cluster-autoscaler, the EBS CSI driver and the AWS Load Balancer Controller.
 */
export function irsaRole(name: string, args: IrsaRoleArgs, parent: pulumi.Resource): aws.iam.Role {
  const assumeRolePolicy = pulumi.all([args.oidcProviderArn, args.oidcIssuer]).apply(([arn, issuer]) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: arn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${issuer}:sub`]: `system:serviceaccount:${args.namespace}:${args.serviceAccount}`,
              [`${issuer}:aud`]: "sts.amazonaws.com",
            },
          },
        },
      ],
    }),
  );
  const opts = (suffix: string): pulumi.CustomResourceOptions => ({
    parent,
    ...(args.formerName ? formerlyNamed(`${name}${suffix}`, `${args.formerName}${suffix}`) : {}),
  });
  const role = new aws.iam.Role(name, { assumeRolePolicy, tags: args.tags }, opts(""));
  if (args.policy) new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: args.policy }, opts("-policy"));
  (args.managedPolicyArns ?? []).forEach(
    (policyArn, i) =>
      new aws.iam.RolePolicyAttachment(`${name}-managed-${i}`, { role: role.name, policyArn }, opts(`-managed-${i}`)),
  );
  return role;
}
