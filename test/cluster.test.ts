import { describe, expect, it } from "vitest";
import { Cluster } from "../components/cluster";
import { GPU_AMI_TYPE, SYSTEM_AMI_TYPE } from "../components/cluster/node-groups";
import { CLUSTER_AUTOSCALER_CHART } from "../components/cluster/autoscaler";
import { GPU_CLASS_LABEL, NODE_GROUP_LABEL } from "../components/k8s/meta";
import type { PlatformConfig } from "../components/config";
import { parseStack } from "./config-helpers";
import { renderResources, type Rendered } from "./harness";

const CA_TEMPLATE = "k8s.io/cluster-autoscaler/node-template";
const MNG = "eks:index:ManagedNodeGroup";
const TAG = "aws:autoscaling/tag:Tag";

async function renderCluster(config: PlatformConfig): Promise<Rendered> {
  return renderResources(() => {
    new Cluster("cluster", {
      environment: config.environment,
      cluster: config.cluster,
      gpuNodeGroups: config.gpuNodeGroups,
      models: config.models,
    });
  });
}

/** ASG tags (key -> value) written for one zonal managed node group. */
function asgTags(r: Rendered, zonal: string): Record<string, string> {
  const tags = r.ofType(TAG).filter((t) => t.name.startsWith(`cluster-${zonal}-`));
  return Object.fromEntries(
    tags.map((t) => {
      const tag = (t.inputs as { tag: { key: string; value: string } }).tag;
      return [tag.key, tag.value];
    }),
  );
}

describe("Cluster, mode eks (prod stack)", () => {
  const config = parseStack("prod");
  if (config.cluster.mode !== "eks") throw new Error("prod must be an eks stack");
  const eksConfig = config.cluster;
  const rendered = renderCluster(config);

  it("creates a VPC over the configured zones and an EKS cluster with the configured name and version", async () => {
    const r = await rendered;
    const vpc = r.inputs("awsx:ec2:Vpc", "cluster-vpc");
    expect(vpc.availabilityZoneNames).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    expect(vpc.subnetSpecs.map((s: { type: string }) => s.type).sort()).toEqual(["Private", "Public"]);
    expect(vpc.natGateways.strategy).toBe("OnePerAz");
    const eks = r.inputs("eks:index:Cluster", "cluster-eks");
    expect(eks.name).toBe("retrieval-prod");
    expect(eks.version).toBe("1.35");
    expect(eks.skipDefaultNodeGroup).toBe(true);
    expect(eks.endpointPublicAccess).toBe(false);
    expect(eks.endpointPrivateAccess).toBe(true);
    expect(eks.createOidcProvider).toBe(true);
  });

  it("runs controllers on one CPU system node group per zone (cluster-autoscaler's advice for pods on zonal EBS volumes: Prometheus, Loki, Alertmanager)", async () => {
    const r = await rendered;
    expect(r.ofType(MNG).filter((m) => m.name === "cluster-system")).toEqual([]);
    const zonal = eksConfig.availabilityZones.map((z) => r.inputs(MNG, `cluster-system-${z}`));
    zonal.forEach((system, i) => {
      const zone = eksConfig.availabilityZones[i]!;
      expect(system.nodeGroupName).toBe(`system-${zone}`);
      expect(system.amiType).toBe(SYSTEM_AMI_TYPE);
      expect(system.instanceTypes).toEqual(["m7i.xlarge"]);
      expect(system.subnetIds).toEqual([`subnet-priv-${zone}`]);
      expect(system.labels).toEqual({ [NODE_GROUP_LABEL]: "system" });
      expect(system.taints).toBeUndefined();
      // Every zone can grow (a volume's pod rescheduled there must find a node), from zero nodes too.
      expect(system.scalingConfig.maxSize).toBeGreaterThanOrEqual(1);
      expect(system.tags[`k8s.io/cluster-autoscaler/node-template/label/${NODE_GROUP_LABEL}`]).toBe("system");
    });
    // Sizes in config are totals across zones: 3..6 over 3 zones.
    expect(zonal.map((s) => s.scalingConfig.minSize)).toEqual([1, 1, 1]);
    expect(zonal.map((s) => s.scalingConfig.maxSize)).toEqual([2, 2, 2]);
  });

  it("splits every GPU node group into one managed node group per zone, with the NVIDIA AMI, taint, labels and disk", async () => {
    const r = await rendered;
    for (const [group, g] of Object.entries(config.gpuNodeGroups)) {
      const zonal = eksConfig.availabilityZones.map((z) => r.inputs(MNG, `cluster-${group}-${z}`));
      zonal.forEach((ng, i) => {
        const zone = eksConfig.availabilityZones[i]!;
        expect(ng.amiType).toBe(GPU_AMI_TYPE);
        expect(ng.amiType).toBe("AL2023_x86_64_NVIDIA");
        expect(ng.subnetIds).toEqual([`subnet-priv-${zone}`]);
        expect(ng.instanceTypes).toEqual(g.instanceTypes);
        expect(ng.capacityType).toBe("ON_DEMAND");
        // The disk is in the node group's launch template (EKS refuses diskSize next to one).
        expect(ng.diskSize).toBeUndefined();
        const lt = r.inputs("aws:ec2/launchTemplate:LaunchTemplate", `cluster-${group}-${zone}-lt`);
        expect(lt.blockDeviceMappings).toEqual([
          {
            deviceName: "/dev/xvda",
            ebs: { volumeSize: g.diskSizeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
          },
        ]);
        expect(ng.taints).toEqual([{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }]);
        expect(ng.labels[NODE_GROUP_LABEL]).toBe(group);
        expect(ng.labels["nvidia.com/gpu.product"]).toMatch(/^NVIDIA-/);
        expect(ng.ignoreScalingChanges).toBe(true);
      });
      // Sizes in config are totals across zones.
      expect(zonal.reduce((n, ng) => n + ng.scalingConfig.minSize, 0)).toBe(g.minSize);
      expect(zonal.reduce((n, ng) => n + ng.scalingConfig.maxSize, 0)).toBe(g.maxSize);
    }
    expect(r.inputs(MNG, "cluster-l4-us-east-1a").labels[GPU_CLASS_LABEL]).toBe("l4");
    expect(r.inputs(MNG, "cluster-l40s-us-east-1c").labels[GPU_CLASS_LABEL]).toBe("l40s");
    expect(r.inputs(MNG, "cluster-l40s-us-east-1c").labels["nvidia.com/gpu.product"]).toBe("NVIDIA-L40S");
  });

  it("tags each zonal ASG so cluster-autoscaler can build its nodes from zero: GPU count, taint and every label", async () => {
    const r = await rendered;
    for (const zone of eksConfig.availabilityZones) {
      const ng = r.inputs(MNG, `cluster-l4-${zone}`);
      const tags = asgTags(r, `l4-${zone}`);
      expect(tags[`${CA_TEMPLATE}/resources/nvidia.com/gpu`]).toBe("1");
      expect(tags[`${CA_TEMPLATE}/taint/nvidia.com/gpu`]).toBe("true:NoSchedule");
      for (const [k, v] of Object.entries(ng.labels as Record<string, string>))
        expect(tags[`${CA_TEMPLATE}/label/${k}`], k).toBe(v);
      // The tags go on the ASG EKS created for this node group (not on the node group, which EKS does not copy).
      const names = r
        .ofType(TAG)
        .filter((t) => t.name.startsWith(`cluster-l4-${zone}-`))
        .map((t) => (t.inputs as { autoscalingGroupName: string }).autoscalingGroupName);
      expect(new Set(names)).toEqual(new Set([`eks-l4-${zone}-offline`]));
    }
  });

  it("installs cluster-autoscaler (pinned chart, image matching the Kubernetes minor) with an IRSA role that may only scale this cluster's ASGs", async () => {
    const r = await rendered;
    const release = r.inputs("kubernetes:helm.sh/v3:Release", "cluster-cluster-autoscaler");
    expect(release.chart).toBe("cluster-autoscaler");
    expect(release.version).toBe(CLUSTER_AUTOSCALER_CHART.version);
    expect(release.values.autoDiscovery.clusterName).toBe("retrieval-prod");
    expect(release.values.image.tag).toMatch(/^v1\.35\.\d+$/);
    expect(release.values.extraArgs["balance-similar-node-groups"]).toBe(true);
    expect(release.values.rbac.serviceAccount.annotations["eks.amazonaws.com/role-arn"]).toBe(
      "arn:aws:iam::123456789012:role/cluster-cluster-autoscaler",
    );
    expect(release.values.nodeSelector).toEqual({ [NODE_GROUP_LABEL]: "system" });
    const policy = JSON.parse(
      r.inputs("aws:iam/rolePolicy:RolePolicy", "cluster-cluster-autoscaler-policy").policy as string,
    );
    const write = policy.Statement.find((s: { Action: string[] }) =>
      s.Action.includes("autoscaling:SetDesiredCapacity"),
    );
    expect(write.Condition.StringEquals).toEqual({
      "aws:ResourceTag/k8s.io/cluster-autoscaler/retrieval-prod": "owned",
    });
    const trust = JSON.parse(r.inputs("aws:iam/role:Role", "cluster-cluster-autoscaler").assumeRolePolicy as string);
    expect(trust.Statement[0].Condition.StringEquals["oidc.eks.us-east-1.amazonaws.com/id/OFFLINE:sub"]).toBe(
      "system:serviceaccount:kube-system:cluster-autoscaler",
    );
  });

  it("provides encrypted gp3 volumes through the EBS CSI add-on as the default StorageClass", async () => {
    const r = await rendered;
    const [sc] = r.objects("StorageClass");
    expect(sc).toMatchObject({
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true" },
      volumeBindingMode: "WaitForFirstConsumer",
    });
    expect(sc!.metadata.annotations["storageclass.kubernetes.io/is-default-class"]).toBe("true");
    expect(r.inputs("aws:eks/addon:Addon", "cluster-ebs-csi").addonName).toBe("aws-ebs-csi-driver");
  });

  it("keeps pods on every node away from the node's credentials: IMDSv2 only, hop limit 1, in each group's launch template", async () => {
    const r = await rendered;
    const groups = [
      ...eksConfig.availabilityZones.map((z) => `system-${z}`),
      ...Object.keys(config.gpuNodeGroups).flatMap((g) => eksConfig.availabilityZones.map((z) => `${g}-${z}`)),
    ];
    for (const group of groups) {
      const lt = r.get("aws:ec2/launchTemplate:LaunchTemplate", `cluster-${group}-lt`);
      expect((lt.inputs as any).metadataOptions, group).toEqual({
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
      });
      // The node group uses exactly this template, at its newest version, and not @pulumi/eks's own (hop limit 2).
      const ng = r.inputs(MNG, `cluster-${group}`);
      expect(ng.launchTemplate, group).toEqual({ id: `${lt.name}-id`, version: "1" });
      expect(ng.enableIMDSv2).toBeUndefined();
    }
    // Every managed node group of the cluster is in that list: none keeps EKS's default metadata options.
    expect(
      r
        .ofType(MNG)
        .map((ng) => ng.name)
        .sort(),
    ).toEqual(groups.map((g) => `cluster-${g}`).sort());
  });

  it("gives the system group its disk through the launch template (EKS refuses diskSize next to one)", async () => {
    const r = await rendered;
    expect(r.inputs(MNG, `cluster-system-${eksConfig.availabilityZones[0]}`).diskSize).toBeUndefined();
    const zone = eksConfig.availabilityZones[0];
    expect(r.inputs("aws:ec2/launchTemplate:LaunchTemplate", `cluster-system-${zone}-lt`).blockDeviceMappings).toEqual([
      {
        deviceName: "/dev/xvda",
        ebs: {
          volumeSize: eksConfig.systemNodeGroup.diskSizeGiB,
          volumeType: "gp3",
          encrypted: "true",
          deleteOnTermination: "true",
        },
      },
    ]);
  });

  it("enforces NetworkPolicies: the VPC CNI's network policy agent is on", async () => {
    const r = await rendered;
    expect(r.inputs("eks:index:Cluster", "cluster-eks").vpcCniOptions).toMatchObject({ enableNetworkPolicy: true });
  });

  it("keeps the API server private and lets the self-hosted deploy runner's network reach it on 443 only", async () => {
    const withRunnerNet = parseStack("prod", (raw) => (raw.cluster.deployRunner.sourceCidrs = ["10.99.0.0/24"]));
    const r = await renderCluster(withRunnerNet);
    const eks = r.inputs("eks:index:Cluster", "cluster-eks");
    expect(eks.endpointPublicAccess).toBe(false);
    expect(eks.publicAccessCidrs).toBeUndefined();
    const rules = r.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((x) => x.inputs);
    expect(rules).toEqual([
      expect.objectContaining({
        securityGroupId: "sg-offline",
        cidrIpv4: "10.99.0.0/24",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
      }),
    ]);
    // Without sourceCidrs (a runner on the cluster's own nodes), no rule is added.
    const onNodes = parseStack("prod", (raw) => delete raw.cluster.deployRunner.sourceCidrs);
    expect((await renderCluster(onNodes)).ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toEqual(
      [],
    );
  });

  it("the shipped prod stack is a working example of the documented private setup: private endpoint, a self-hosted runner whose network (not the VPC's) is admitted on 443", async () => {
    const prod = parseStack("prod");
    if (prod.cluster.mode !== "eks") throw new Error("prod is an EKS stack");
    expect(prod.cluster.endpointPublicAccess).toBe(false);
    const runner = prod.cluster.deployRunner;
    expect(runner.type).toBe("self-hosted");
    if (runner.type !== "self-hosted") return;
    expect(runner.sourceCidrs.length).toBeGreaterThan(0);
    // The runner's network must not overlap the VPC (docs/deploying.md: routes in both directions).
    const range = (cidr: string) => {
      const [ip, bits] = cidr.split("/");
      const start = ip!.split(".").reduce((n, o) => n * 256 + Number(o), 0);
      return [start, start + 2 ** (32 - Number(bits)) - 1] as const;
    };
    const [vpcStart, vpcEnd] = range(prod.cluster.vpcCidr);
    for (const cidr of runner.sourceCidrs) {
      const [s, e] = range(cidr);
      expect(e < vpcStart || s > vpcEnd, `${cidr} overlaps the VPC ${prod.cluster.vpcCidr}`).toBe(true);
    }
    const rules = (await renderCluster(prod))
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .map((x) => (x.inputs as { cidrIpv4: string }).cidrIpv4);
    expect(rules).toEqual(runner.sourceCidrs);
  });

  it("opens a public endpoint only to the listed CIDRs", async () => {
    const open = parseStack("dev", (raw) =>
      Object.assign(raw.cluster, { endpointPublicAccess: true, publicAccessCidrs: ["198.51.100.0/24"] }),
    );
    const eks = (await renderCluster(open)).inputs("eks:index:Cluster", "cluster-eks");
    expect(eks.endpointPublicAccess).toBe(true);
    expect(eks.publicAccessCidrs).toEqual(["198.51.100.0/24"]);
  });

  it("hands out the kubeconfig only as a secret", async () => {
    const r = await rendered;
    expect(r.inputs("pulumi:providers:kubernetes", "cluster-k8s").kubeconfig).toBe("[secret]");
  });
});

describe("Cluster, mode eks (dev stack): GPU scale from zero", () => {
  it("lets the spot L4 group start at zero nodes and still tells the autoscaler what a node would bring", async () => {
    const config = parseStack("dev");
    const r = await renderCluster(config);
    for (const zone of ["us-east-1a", "us-east-1b"]) {
      const ng = r.inputs(MNG, `cluster-l4-${zone}`);
      expect(ng.scalingConfig).toEqual({ minSize: 0, maxSize: 1, desiredSize: 0 });
      expect(ng.capacityType).toBe("SPOT");
      expect(asgTags(r, `l4-${zone}`)[`${CA_TEMPLATE}/resources/nvidia.com/gpu`]).toBe("1");
    }
    const ca = r.inputs("kubernetes:helm.sh/v3:Release", "cluster-cluster-autoscaler");
    expect(ca.values.extraArgs).not.toHaveProperty("scale-down-enabled");
  });

  it("advertises time-sliced GPUs to the autoscaler as physical GPUs x replicas", async () => {
    const config = parseStack("dev", (raw) => {
      raw.gpuNodeGroups.l4.sharing = { timeSlicingReplicas: 4 };
    });
    const r = await renderCluster(config);
    expect(asgTags(r, "l4-us-east-1a")[`${CA_TEMPLATE}/resources/nvidia.com/gpu`]).toBe("4");
    expect(r.inputs(MNG, "cluster-l4-us-east-1a").labels["nvidia.com/device-plugin.config"]).toBe("l4");
  });
});

describe("Cluster, mode existing", () => {
  it("creates no AWS resource at all, even when GPU node groups are declared", async () => {
    const config = parseStack("local", (raw) => {
      raw.gpuNodeGroups = { l4: { instanceTypes: ["g6.xlarge"], minSize: 1, maxSize: 2 } };
    });
    const r = await renderCluster(config);
    expect(r.types().filter((t) => /^(aws|awsx|eks)[:]/.test(t) || t.startsWith("pulumi:providers:aws"))).toEqual([]);
    expect(r.types()).toContain("pulumi:providers:kubernetes");
    expect(r.inputs("pulumi:providers:kubernetes", "cluster-k8s").context).toBe("kind-retrieval");
  });

  it("still reports the declared GPU pools and their capacity", async () => {
    const config = parseStack("local", (raw) => {
      raw.gpuNodeGroups = { l4: { instanceTypes: ["g6.xlarge"], minSize: 1, maxSize: 2 } };
    });
    let cluster: Cluster | undefined;
    await renderResources(() => {
      cluster = new Cluster("cluster", {
        environment: config.environment,
        cluster: config.cluster,
        gpuNodeGroups: config.gpuNodeGroups,
      });
    });
    expect(cluster!.kubeconfig).toBeUndefined();
    expect(cluster!.gpuNodeGroups).toEqual([
      { nodeGroup: "l4", gpuClass: "l4", instanceType: "g6.xlarge", managedNodeGroups: [] },
    ]);
    expect(cluster!.gpuCapacity[0]!.gpus).toEqual({ min: 1, max: 2 });
  });
});
