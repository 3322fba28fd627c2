import { describe, expect, it } from "vitest";
import type { ConfigProblem } from "../components/config";
import { STACKS, parseStack, problemsOf } from "./config-helpers";

/** The one problem at a YAML path; fails with every problem listed when it is missing. */
function at(problems: readonly ConfigProblem[], path: string): ConfigProblem {
  const p = problems.find((x) => x.path === path);
  if (!p) throw new Error(`no problem at ${path}; got:\n${problems.map((x) => `${x.path}: ${x.message}`).join("\n")}`);
  return p;
}

describe("GPU capacity config: the shipped stacks", () => {
  it.each(STACKS)("stack %s is valid", (stack) => {
    expect(() => parseStack(stack)).not.toThrow();
  });
});

describe("GPU capacity config: bad input is refused before anything is created", () => {
  it("an instance type outside the catalogue", () => {
    const p = at(
      problemsOf("prod", (raw) => (raw.gpuNodeGroups.l4.instanceTypes = ["g4dn.xlarge"])),
      "retrieval-stack:gpuNodeGroups.l4.instanceTypes[0]",
    );
    expect(p.value).toBe("g4dn.xlarge");
    expect(p.message).toMatch(/not in the GPU instance catalogue.*g6\.xlarge/);
  });

  it("minSize above maxSize", () => {
    const p = at(
      problemsOf("prod", (raw) => Object.assign(raw.gpuNodeGroups.l4, { minSize: 10, maxSize: 9 })),
      "retrieval-stack:gpuNodeGroups.l4.minSize",
    );
    expect(p.message).toMatch(/above maxSize \(9\)/);
  });

  it("desiredSize outside [minSize, maxSize]", () => {
    const p = at(
      problemsOf("prod", (raw) => (raw.gpuNodeGroups.l40s.desiredSize = 7)),
      "retrieval-stack:gpuNodeGroups.l40s.desiredSize",
    );
    expect(p.message).toMatch(/within \[minSize 3, maxSize 6\]/);
  });

  it("a model pinned to a node group that does not exist", () => {
    const p = at(
      problemsOf("prod", (raw) => (raw.models[0].gpu.nodeGroup = "a100")),
      "retrieval-stack:models[0].gpu.nodeGroup",
    );
    expect(p.value).toBe("a100");
    expect(p.message).toMatch(/not a GPU node group of this stack.*"l4", "l40s"/);
  });

  it("spot GPUs in prod without the explicit opt-in, and accepted with it", () => {
    const p = at(
      problemsOf("prod", (raw) => (raw.gpuNodeGroups.l4.capacityType = "SPOT")),
      "retrieval-stack:gpuNodeGroups.l4.capacityType",
    );
    expect(p.message).toMatch(/allowSpotInProd: true/);
    expect(() =>
      parseStack("prod", (raw) => Object.assign(raw.gpuNodeGroups.l4, { capacityType: "SPOT", allowSpotInProd: true })),
    ).not.toThrow();
    // dev may use spot freely (its stack does).
    expect(parseStack("dev").gpuNodeGroups.l4!.capacityType).toBe("SPOT");
  });

  it("zero availability zones", () => {
    const p = at(
      problemsOf("dev", (raw) => (raw.cluster.availabilityZones = [])),
      "retrieval-stack:cluster.availabilityZones",
    );
    expect(p.message).toMatch(/at least one zone/);
  });

  it("fewer zones than the environment needs, and zones of another region", () => {
    expect(
      at(
        problemsOf("prod", (raw) => (raw.cluster.availabilityZones = ["us-east-1a", "us-east-1b"])),
        "retrieval-stack:cluster.availabilityZones",
      ).message,
    ).toMatch(/prod needs at least 3 zones/);
    expect(
      at(
        problemsOf("dev", (raw) => (raw.cluster.availabilityZones = ["us-east-1a", "eu-west-1b"])),
        "retrieval-stack:cluster.availabilityZones[1]",
      ).message,
    ).toMatch(/not a zone of region us-east-1/);
  });

  it("a GPU group too small to have a node group in every zone", () => {
    const p = at(
      problemsOf("prod", (raw) => Object.assign(raw.gpuNodeGroups.l40s, { minSize: 1, maxSize: 2 })),
      "retrieval-stack:gpuNodeGroups.l40s.maxSize",
    );
    expect(p.message).toMatch(/below the number of zones \(3\)/);
  });

  it("Karpenter, which is not implemented, and a Kubernetes version without a pinned cluster-autoscaler", () => {
    expect(
      at(
        problemsOf("prod", (raw) => (raw.cluster.nodeAutoscaler = "karpenter")),
        "retrieval-stack:cluster.nodeAutoscaler",
      ).message,
    ).toMatch(/not implemented yet/);
    expect(
      at(
        problemsOf("prod", (raw) => (raw.cluster.kubernetesVersion = "1.29")),
        "retrieval-stack:cluster.kubernetesVersion",
      ).message,
    ).toMatch(/no pinned cluster-autoscaler.*"1\.33"/);
  });

  it("user labels that would override the labels scheduling depends on", () => {
    const p = at(
      problemsOf("prod", (raw) => (raw.gpuNodeGroups.l4.labels = { "retrieval-stack.io/gpu-class": "h100" })),
      'retrieval-stack:gpuNodeGroups.l4.labels["retrieval-stack.io/gpu-class"]',
    );
    expect(p.message).toMatch(/sets itself/);
  });

  it("more GPUs at the models' minimum replicas than the group can ever have", () => {
    const p = at(
      problemsOf("prod", (raw) => (raw.models[0].replicas = { min: 8, max: 9 })),
      "retrieval-stack:gpuNodeGroups.l4.maxSize",
    );
    expect(p.message).toMatch(/at most 9 nvidia\.com\/gpu.*need 10/);
  });

  it("more than one time-sliced GPU per replica", () => {
    const p = at(
      problemsOf("dev", (raw) => {
        raw.gpuNodeGroups.l4.sharing = { timeSlicingReplicas: 4 };
        raw.models[0].gpu.count = 2;
      }),
      "retrieval-stack:models[0].gpu.count",
    );
    expect(p.message).toMatch(/time-slices its GPUs/);
  });

  it("MIG on a GPU without MIG, and MIG together with time-slicing", () => {
    expect(
      at(
        problemsOf("prod", (raw) => (raw.gpuNodeGroups.l4.sharing = { migStrategy: "single" })),
        "retrieval-stack:gpuNodeGroups.l4.sharing.migStrategy",
      ).message,
    ).toMatch(/L4 GPUs do not support MIG/);
    expect(
      at(
        problemsOf("prod", (raw) => (raw.gpuNodeGroups.l4.sharing = { migStrategy: "single", timeSlicingReplicas: 2 })),
        "retrieval-stack:gpuNodeGroups.l4.sharing",
      ).message,
    ).toMatch(/exclusive/);
  });

  it("Qwen3-Reranker-4B at 32k context on a 24 GB GPU (sized down explicitly to 8k it fits)", () => {
    const mutate = (raw: any) => (raw.models[2].gpu.nodeGroup = "l4");
    const p = at(problemsOf("prod", mutate), "retrieval-stack:models[2].maxModelLen");
    expect(p.message).toMatch(/Qwen\/Qwen3-Reranker-4B at 32768 tokens needs ~[\d.]+ GiB.*1 x L4/);
    expect(() =>
      parseStack("prod", (raw) => {
        mutate(raw);
        raw.models[2].maxModelLen = 8192;
      }),
    ).not.toThrow();
  });

  it("a CIDR that is not one", () => {
    expect(
      at(
        problemsOf("prod", (raw) => (raw.cluster.vpcCidr = "10.40.0.0")),
        "retrieval-stack:cluster.vpcCidr",
      ).message,
    ).toMatch(/IPv4 CIDR/);
  });
});

describe("API server access: the deploy can always reach it, and the public endpoint is never open by default", () => {
  const cluster = (stack: string, mutate: (c: any) => void = () => {}) => {
    const c = parseStack(stack, (raw) => mutate(raw.cluster)).cluster;
    if (c.mode !== "eks") throw new Error(`${stack} is an eks stack`);
    return c;
  };

  it.each(["dev", "staging", "prod"])("%s: the public endpoint is off unless the stack opens it", (stack) => {
    const c = cluster(stack, (raw) => delete raw.endpointPublicAccess);
    expect(c.endpointPublicAccess).toBe(false);
    expect(c.publicAccessCidrs).toEqual([]);
  });

  it("a private endpoint with a GitHub-hosted runner cannot deploy: refused at cluster.deployRunner", () => {
    const p = at(
      problemsOf("prod", (raw) => (raw.cluster.deployRunner = { type: "github-hosted" })),
      "retrieval-stack:cluster.deployRunner",
    );
    expect(p.message).toMatch(/GitHub-hosted runner cannot reach the private API endpoint.*Fix: .*self-hosted/);
    // The default runner is GitHub-hosted, so leaving it out is the same mistake.
    at(
      problemsOf("prod", (raw) => delete raw.cluster.deployRunner),
      "retrieval-stack:cluster.deployRunner",
    );
  });

  it("a public endpoint needs the CIDRs that may reach it; the whole internet only when written out", () => {
    const p = at(
      problemsOf("dev", (raw) => Object.assign(raw.cluster, { endpointPublicAccess: true, deployRunner: undefined })),
      "retrieval-stack:cluster.publicAccessCidrs",
    );
    expect(p.message).toMatch(/is empty while endpointPublicAccess is true.*"0\.0\.0\.0\/0"/);
    const open = cluster("dev", (raw) =>
      Object.assign(raw, {
        endpointPublicAccess: true,
        publicAccessCidrs: ["0.0.0.0/0"],
        deployRunner: { type: "github-hosted" },
      }),
    );
    expect(open.publicAccessCidrs).toEqual(["0.0.0.0/0"]);
  });

  it("publicAccessCidrs on a private endpoint is a mistake, not silently ignored", () => {
    const p = at(
      problemsOf("prod", (raw) => (raw.cluster.publicAccessCidrs = ["198.51.100.0/24"])),
      "retrieval-stack:cluster.publicAccessCidrs",
    );
    expect(p.message).toMatch(/has no effect: endpointPublicAccess is false/);
  });

  it("runner labels and source CIDRs are checked", () => {
    const problems = problemsOf("prod", (raw) => {
      raw.cluster.deployRunner = { type: "self-hosted", labels: ["has space"], sourceCidrs: ["10.0.0.0/33"] };
    });
    at(problems, "retrieval-stack:cluster.deployRunner.labels[0]");
    at(problems, "retrieval-stack:cluster.deployRunner.sourceCidrs[0]");
    at(
      problemsOf("prod", (raw) => (raw.cluster.deployRunner = { type: "self-hosted", labels: [] })),
      "retrieval-stack:cluster.deployRunner.labels",
    );
  });
});
