import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Cluster } from "../components/cluster";
import {
  LBC_CLUSTER_TAG,
  LOAD_BALANCER_CONTROLLER_CHART,
  loadBalancerControllerPolicy,
  type IamPolicyDocument,
} from "../components/cluster/load-balancer-controller";
import { NODE_GROUP_LABEL } from "../components/k8s/meta";
import type { PlatformConfig } from "../components/config";
import { runPlan } from "../plan/run";
import { parseStack } from "./config-helpers";
import { renderResources, type Rendered } from "./harness";
import { waitsFor } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const LBC = "cluster-aws-load-balancer-controller";

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

interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** Tags the request sets (aws:RequestTag/*). */
  readonly requestTags?: Record<string, string>;
  /** Tags the target resource already has (aws:ResourceTag/*). */
  readonly resourceTags?: Record<string, string>;
  /** Other condition keys, e.g. ec2:CreateAction. */
  readonly context?: Record<string, string>;
}

const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );

/**
 * A small IAM evaluator for Allow statements with StringEquals and Null conditions (the only ones the policy uses):
 * enough to ask "may the controller do X to a resource tagged Y?" instead of comparing JSON.
 */
function allows(doc: IamPolicyDocument, req: IamRequest): boolean {
  const valueOf = (key: string): string | undefined => {
    if (key.startsWith("aws:RequestTag/")) return req.requestTags?.[key.slice("aws:RequestTag/".length)];
    if (key.startsWith("aws:ResourceTag/")) return req.resourceTags?.[key.slice("aws:ResourceTag/".length)];
    return req.context?.[key];
  };
  return doc.Statement.some((s) => {
    if (!s.Action.some((a) => glob(a).test(req.action))) return false;
    const resources = typeof s.Resource === "string" ? [s.Resource] : s.Resource;
    if (!resources.some((r) => glob(r).test(req.resource))) return false;
    for (const [operator, entries] of Object.entries(s.Condition ?? {})) {
      for (const [key, expected] of Object.entries(entries ?? {})) {
        const actual = valueOf(key);
        if (operator === "Null" && (expected === "true") !== (actual === undefined)) return false;
        if (
          operator === "StringEquals" &&
          (actual === undefined || !(Array.isArray(expected) ? expected : [expected]).includes(actual))
        )
          return false;
        if (operator !== "Null" && operator !== "StringEquals") throw new Error(`evaluator does not know ${operator}`);
      }
    }
    return true;
  });
}

describe("AWS Load Balancer Controller, mode eks (prod stack)", () => {
  const config = parseStack("prod");
  const rendered = renderCluster(config);

  it("installs the pinned chart in kube-system with the cluster name, region and the VPC of the cluster", async () => {
    const r = await rendered;
    const release = r.inputs(RELEASE, LBC);
    expect(release).toMatchObject({
      chart: "aws-load-balancer-controller",
      namespace: "kube-system",
      repositoryOpts: { repo: "https://aws.github.io/eks-charts" },
    });
    expect(release.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(release.version).toBe(LOAD_BALANCER_CONTROLLER_CHART.version);
    // Since chart 3.0 the chart version is the controller version.
    expect(release.values.image.tag).toBe(`v${release.version}`);
    // vpc-offline is the vpcId output of the awsx VPC (plan/mock-outputs.ts): the value comes from the VPC resource.
    expect(release.values).toMatchObject({ clusterName: "retrieval-prod", region: "us-east-1", vpcId: "vpc-offline" });
  });

  it("runs two replicas on the system node group with the IRSA role on its service account", async () => {
    const r = await rendered;
    const values = r.inputs(RELEASE, LBC).values;
    expect(values.replicaCount).toBe(2);
    expect(values.nodeSelector).toEqual({ [NODE_GROUP_LABEL]: "system" });
    expect(values.serviceAccount).toEqual({
      create: true,
      name: "aws-load-balancer-controller",
      annotations: {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/cluster-aws-load-balancer-controller",
      },
    });
  });

  it("enables no optional integration: Shield, WAF, WAFv2, the Service mutating webhook and Gateway API are off", async () => {
    const values = (await rendered).inputs(RELEASE, LBC).values;
    expect(values).toMatchObject({
      enableShield: false,
      enableWaf: false,
      enableWafv2: false,
      enableServiceMutatorWebhook: false,
      serviceMonitor: { enabled: false },
    });
    expect(values.controllerConfig.featureGates).toEqual({ ALBGatewayAPI: false, NLBGatewayAPI: false });
  });

  it("lets exactly kube-system:aws-load-balancer-controller assume its role, through the cluster's OIDC provider", async () => {
    const trust = JSON.parse((await rendered).inputs("aws:iam/role:Role", LBC).assumeRolePolicy as string);
    expect(trust.Statement).toHaveLength(1);
    const [s] = trust.Statement;
    expect(s.Action).toBe("sts:AssumeRoleWithWebIdentity");
    expect(s.Principal).toEqual({
      Federated: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OFFLINE",
    });
    expect(s.Condition).toEqual({
      StringEquals: {
        "oidc.eks.us-east-1.amazonaws.com/id/OFFLINE:sub":
          "system:serviceaccount:kube-system:aws-load-balancer-controller",
        "oidc.eks.us-east-1.amazonaws.com/id/OFFLINE:aud": "sts.amazonaws.com",
      },
    });
  });

  it("attaches the policy that scopes mutating ELB and security-group actions to this cluster's tag", async () => {
    const attached = JSON.parse(
      (await rendered).inputs("aws:iam/rolePolicy:RolePolicy", `${LBC}-policy`).policy as string,
    ) as IamPolicyDocument;
    // Nothing is granted on every action or on IAM itself (the controller only reads certificates' server roles).
    for (const st of attached.Statement) {
      expect(st.Action, st.Sid).not.toContain("*");
      expect(
        st.Action.filter(
          (x: string) =>
            x.startsWith("iam:") &&
            x !== "iam:CreateServiceLinkedRole" &&
            !x.startsWith("iam:Get") &&
            !x.startsWith("iam:List"),
        ),
        st.Sid,
      ).toEqual([]);
    }
    const scoped = [
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:SetSecurityGroups",
      "ec2:DeleteSecurityGroup",
    ];
    for (const action of scoped) {
      const granting = attached.Statement.filter((s) => s.Action.includes(action));
      expect(granting.length, action).toBeGreaterThan(0);
      for (const s of granting) {
        const tagKeys = Object.entries(s.Condition?.StringEquals ?? {}).filter(
          ([k, v]) => k.endsWith(`Tag/${LBC_CLUSTER_TAG}`) && v === "retrieval-prod",
        );
        expect(tagKeys.length, `${s.Sid} grants ${action}`).toBe(1);
      }
    }
  });
});

describe("what the controller's IAM policy allows (evaluated)", () => {
  const policy = loadBalancerControllerPolicy("retrieval-prod", "us-east-1");
  const nlb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/k8s-ingress-abc/0123456789abcdef";
  const targetGroup =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-ingress-abc/0123456789abcdef";
  const securityGroup = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123";
  const ours = { [LBC_CLUSTER_TAG]: "retrieval-prod" };
  const theirs = { [LBC_CLUSTER_TAG]: "retrieval-staging" };

  it("reads everything it needs to discover subnets, load balancers and targets", () => {
    for (const action of [
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeListenerAttributes",
      "ec2:DescribeSubnets",
      "ec2:GetSecurityGroupsForVpc",
    ])
      expect(allows(policy, { action, resource: "*" }), action).toBe(true);
  });

  it("creates load balancers and target groups only when they carry this cluster's tag", () => {
    expect(
      allows(policy, { action: "elasticloadbalancing:CreateLoadBalancer", resource: nlb, requestTags: ours }),
    ).toBe(true);
    expect(allows(policy, { action: "elasticloadbalancing:CreateLoadBalancer", resource: nlb })).toBe(false);
    expect(
      allows(policy, { action: "elasticloadbalancing:CreateTargetGroup", resource: targetGroup, requestTags: theirs }),
    ).toBe(false);
    expect(
      allows(policy, {
        action: "elasticloadbalancing:AddTags",
        resource: nlb,
        requestTags: ours,
        context: { "elasticloadbalancing:CreateAction": "CreateLoadBalancer" },
      }),
    ).toBe(true);
  });

  it("modifies and deletes only this cluster's load balancers, target groups and security groups", () => {
    for (const [action, resource] of [
      ["elasticloadbalancing:DeleteLoadBalancer", nlb],
      ["elasticloadbalancing:ModifyLoadBalancerAttributes", nlb],
      ["elasticloadbalancing:DeleteTargetGroup", targetGroup],
      ["elasticloadbalancing:ModifyTargetGroupAttributes", targetGroup],
      ["ec2:DeleteSecurityGroup", securityGroup],
    ] as const) {
      expect(allows(policy, { action, resource, resourceTags: ours }), `${action} on ours`).toBe(true);
      expect(allows(policy, { action, resource, resourceTags: theirs }), `${action} on another cluster's`).toBe(false);
      expect(allows(policy, { action, resource }), `${action} on an untagged one`).toBe(false);
    }
  });

  it("cannot re-home a resource by rewriting its cluster tag, on load balancers or security groups", () => {
    expect(
      allows(policy, {
        action: "elasticloadbalancing:AddTags",
        resource: nlb,
        resourceTags: ours,
        requestTags: { "app.kubernetes.io/name": "x" },
      }),
    ).toBe(true);
    expect(
      allows(policy, {
        action: "elasticloadbalancing:AddTags",
        resource: nlb,
        resourceTags: theirs,
        requestTags: ours,
      }),
    ).toBe(false);
    expect(
      allows(policy, {
        action: "elasticloadbalancing:RemoveTags",
        resource: nlb,
        resourceTags: ours,
        requestTags: ours,
      }),
    ).toBe(false);
    expect(
      allows(policy, { action: "ec2:CreateTags", resource: securityGroup, resourceTags: theirs, requestTags: ours }),
    ).toBe(false);
  });

  it("grants nothing for the disabled WAF and Shield integrations", () => {
    for (const action of [
      "wafv2:AssociateWebACL",
      "waf-regional:AssociateWebACL",
      "shield:CreateProtection",
      "elasticloadbalancing:SetWebAcl",
    ])
      expect(allows(policy, { action, resource: "*" }), action).toBe(false);
  });

  it("names the partition of the region in its ARNs", () => {
    const cn = loadBalancerControllerPolicy("retrieval-cn", "cn-north-1");
    expect(
      allows(cn, {
        action: "elasticloadbalancing:RegisterTargets",
        resource: "arn:aws-cn:elasticloadbalancing:cn-north-1:1:targetgroup/a/b",
      }),
    ).toBe(true);
    expect(
      allows(cn, {
        action: "elasticloadbalancing:RegisterTargets",
        resource: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/b",
      }),
    ).toBe(false);
  });
});

describe("AWS Load Balancer Controller, mode existing", () => {
  it("is not installed and no role is created (an existing cluster brings its own)", async () => {
    const r = await renderCluster(parseStack("local"));
    expect(
      r.ofType(RELEASE).filter((x) => (x.inputs as { chart?: string }).chart === "aws-load-balancer-controller"),
    ).toEqual([]);
    expect(r.types().filter((t) => t.startsWith("aws:"))).toEqual([]);
  });
});

describe("ordering in the whole prod program", () => {
  it("the ingress controller release (whose Service asks for the NLB) waits for the load balancer controller", async () => {
    const result = await runPlan({ stack: "prod", outDir: fs.mkdtempSync(path.join(os.tmpdir(), "rs-lbc-")) });
    expect(result.errors).toEqual([]);
    const recorded = result.recorded!;
    const byUrn = new Map(recorded.map((r) => [r.urn, r]));
    const release = (chart: string) =>
      recorded.find((r) => r.type === RELEASE && (r.inputs as { chart?: string }).chart === chart)!;
    const lbc = release("aws-load-balancer-controller");
    const nginx = release("nginx-ingress");
    expect(byUrn.get(lbc.parentUrn!)?.type).toBe("retrieval-stack:cluster:Cluster");

    expect(waitsFor(recorded, nginx).has(lbc.urn)).toBe(true);
  }, 60_000);
});
