/**
 * What the offline runtime answers for a resource's outputs and for provider function calls. Inputs are echoed
 * back; the entries below add the outputs that the program reads from cloud resources (ids, endpoints,
 * kubeconfigs), with obviously fake values. Extend this table when a component reads a new output.
 */
export type OutputFn = (name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

const fakeKubeconfig = (name: string) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: `https://${name}.offline.invalid` } }],
    contexts: [],
    users: [],
  });

export const RESOURCE_OUTPUTS: Record<string, OutputFn> = {
  "eks:index:Cluster": (name) => ({
    kubeconfig: fakeKubeconfig(name),
    kubeconfigJson: fakeKubeconfig(name),
    eksCluster: { name: `${name}-eks`, arn: `arn:aws:eks:us-east-1:123456789012:cluster/${name}` },
    core: {
      oidcProvider: {
        arn: `arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OFFLINE`,
        url: "oidc.eks.us-east-1.amazonaws.com/id/OFFLINE",
      },
    },
    clusterSecurityGroupId: "sg-offline",
    nodeSecurityGroupId: "sg-offline-nodes",
    oidcProviderArn: `arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OFFLINE`,
    oidcProviderUrl: "oidc.eks.us-east-1.amazonaws.com/id/OFFLINE",
    oidcIssuer: "oidc.eks.us-east-1.amazonaws.com/id/OFFLINE",
  }),
  // One subnet of each kind per zone, in the order of availabilityZoneNames (as awsx creates them).
  "awsx:ec2:Vpc": (_name, inputs) => {
    const zones = (inputs.availabilityZoneNames as string[] | undefined) ?? ["us-east-1a", "us-east-1b", "us-east-1c"];
    return {
      vpcId: "vpc-offline",
      publicSubnetIds: zones.map((z) => `subnet-pub-${z}`),
      privateSubnetIds: zones.map((z) => `subnet-priv-${z}`),
    };
  },
  // `nodeGroup` is an aws.eks.NodeGroup when deployed; offline its data, enough to read the ASG name.
  "eks:index:ManagedNodeGroup": (name, inputs) => ({
    nodeGroup: {
      nodeGroupName: inputs.nodeGroupName ?? name,
      resources: [{ autoscalingGroups: [{ name: `eks-${String(inputs.nodeGroupName ?? name)}-offline` }] }],
    },
  }),
  "aws:eks/addon:Addon": (name, inputs) => ({
    arn: `arn:aws:eks:us-east-1:123456789012:addon/${String(inputs.addonName ?? name)}`,
    addonVersion: inputs.addonVersion ?? "v0.0.0-eksbuild.offline",
  }),
  // A new launch template's first version (GPU node groups pin their template at latestVersion).
  "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }),
  "aws:iam/role:Role": (name) => ({ arn: `arn:aws:iam::123456789012:role/${name}`, name }),
  "aws:ecr/repository:Repository": (name) => ({
    repositoryUrl: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${name}`,
    registryId: "123456789012",
  }),
  // A build pushed by digest (the verifier image): the repository of imageName, an obviously fake digest.
  "docker:index/image:Image": (_name, inputs) => ({
    repoDigest: `${String(inputs.imageName).replace(/:[^:/]+$/, "")}@sha256:${"0".repeat(64)}`,
  }),
};

export const CALL_OUTPUTS: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: "123456789012",
    arn: "arn:aws:iam::123456789012:user/offline",
    userId: "offline",
  }),
  "aws:index/getRegion:getRegion": () => ({ name: "us-east-1", region: "us-east-1", id: "us-east-1" }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => ({
    userName: "AWS",
    password: "offline",
    proxyEndpoint: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
  }),
};
