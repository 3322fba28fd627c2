import { describe, expect, it } from "vitest";
import { GPU_INSTANCE_TYPES, HOURS_PER_MONTH, lookupInstanceType } from "../components/cluster/instances";
import { gpuCapacity } from "../components/cluster/capacity";
import { splitAcrossZones } from "../components/cluster/node-groups";
import { gpuSummary } from "../plan/summary-gpu";
import type { SummaryContext } from "../plan/summary";
import { parseStack } from "./config-helpers";

describe("GPU instance catalogue", () => {
  it("covers the g5, g6, g6e, p4d and p5 families with the GPU each has", () => {
    const families = new Map<string, Set<string>>();
    for (const [name, t] of Object.entries(GPU_INSTANCE_TYPES)) {
      const family = name.split(".")[0]!;
      families.set(family, (families.get(family) ?? new Set()).add(`${t.gpuModel}/${t.gpuMemoryGiB}`));
    }
    expect(Object.fromEntries([...families].map(([f, s]) => [f, [...s]]))).toEqual({
      g5: ["A10G/24"],
      g6: ["L4/24"],
      g6e: ["L40S/48"],
      p4d: ["A100/40"],
      p5: ["H100/80"],
    });
  });

  it("knows the multi-GPU sizes and which GPUs support MIG", () => {
    expect(lookupInstanceType("g6e.12xlarge")).toMatchObject({ gpus: 4, vcpu: 48, memoryGiB: 384 });
    expect(lookupInstanceType("g5.48xlarge")).toMatchObject({ gpus: 8, vcpu: 192 });
    expect(lookupInstanceType("p4d.24xlarge")).toMatchObject({ gpus: 8, mig: true, memoryGiB: 1152 });
    expect(lookupInstanceType("p5.48xlarge")).toMatchObject({ gpus: 8, mig: true });
    expect(lookupInstanceType("g6.xlarge")!.mig).toBe(false);
    expect(lookupInstanceType("g4dn.xlarge")).toBeUndefined();
  });

  it("prices grow with size inside a family (a typo in a price would break this)", () => {
    for (const family of ["g5", "g6", "g6e"]) {
      const sizes = ["xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"].map(
        (s) => lookupInstanceType(`${family}.${s}`)!.onDemandUsdPerHour,
      );
      expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
    }
  });
});

describe("zone split", () => {
  it("gives every zone its share and the first zones the remainder, summing to the total", () => {
    expect(splitAcrossZones(9, 3)).toEqual([3, 3, 3]);
    expect(splitAcrossZones(4, 3)).toEqual([2, 1, 1]);
    expect(splitAcrossZones(0, 2)).toEqual([0, 0]);
    for (let total = 0; total < 20; total++)
      for (let zones = 1; zones <= 6; zones++)
        expect(splitAcrossZones(total, zones).reduce((a, b) => a + b, 0)).toBe(total);
  });
});

describe("GPU capacity and cost", () => {
  it("counts GPUs, schedulable slices and what the models request, at min and max scale", () => {
    const config = parseStack("prod");
    const [l4, l40s] = gpuCapacity(config.gpuNodeGroups, config.models);
    expect(l4).toMatchObject({
      nodeGroup: "l4",
      instanceType: "g6.2xlarge",
      gpus: { min: 3, max: 9 },
      requestedGpus: { min: 5, max: 9 },
      models: ["bge-large-zh", "gte-base"],
    });
    expect(l40s).toMatchObject({
      nodeGroup: "l40s",
      gpuClass: "l40s",
      gpus: { min: 3, max: 6 },
      requestedGpus: { min: 3, max: 6 },
    });
    const hourly = lookupInstanceType("g6.2xlarge")!.onDemandUsdPerHour;
    expect(l4!.usdPerMonth.min).toBeCloseTo(3 * hourly * HOURS_PER_MONTH, 1);
    expect(l4!.usdPerMonth.max).toBeCloseTo(9 * hourly * HOURS_PER_MONTH, 1);
  });

  it("multiplies GPUs by time-slicing replicas", () => {
    const config = parseStack("dev", (raw) => (raw.gpuNodeGroups.l4.sharing = { timeSlicingReplicas: 4 }));
    expect(gpuCapacity(config.gpuNodeGroups)[0]).toMatchObject({
      gpus: { min: 0, max: 2 },
      schedulableGpus: { min: 0, max: 8 },
    });
  });
});

describe("plan.md section 'GPUs and cost'", () => {
  const render = (stack: string) =>
    gpuSummary({
      stack,
      config: parseStack(stack),
      plan: { objects: [], helmReleases: [], resources: [] },
      placeholders: [],
    } as SummaryContext)!;

  it("shows, for prod, every GPU group, the GPUs and the monthly cost at min and max scale", () => {
    const md = render("prod");
    expect(md).toMatch(/^## GPUs and cost/);
    expect(md).toMatch(/\| `l4` \| g6\.2xlarge \| L4 24 GiB \| ON_DEMAND \| 3–9 \| 3–9 \|/);
    expect(md).toMatch(/\| `l40s` \| g6e\.2xlarge \| L40S 48 GiB \| ON_DEMAND \| 3–6 \| 3–6 \|/);
    // The minimum counts the nodes the models' minimum replicas keep: l4 has minSize 3 but its models need 5 GPUs.
    expect(md).toContain("**GPUs: 8 at minimum scale, 15 at maximum;");
    const l4 = 0.9776 * 730;
    const l40s = 2.24208 * 730;
    const fmt = (x: number) => `$${Math.round(x).toLocaleString("en-US")}`;
    expect(md).toContain(`GPU nodes ${fmt(5 * l4 + 3 * l40s)}–${fmt(9 * l4 + 6 * l40s)} per month`);
    expect(md).toMatch(/3 zone\(s\): us-east-1a, us-east-1b, us-east-1c/);
    expect(md).toMatch(/cluster-autoscaler v1\.35\.\d+/);
    expect(md).toMatch(
      /Load balancers: AWS Load Balancer Controller v\d+\.\d+\.\d+ \(chart \d+\.\d+\.\d+\), 2 replicas on the system node group/,
    );
    expect(md).toContain("`elbv2.k8s.aws/cluster=retrieval-prod`");
    expect(md).toMatch(/Total compute estimate: \$[\d,]+ per month at minimum scale, \$[\d,]+ at maximum/);
  });

  it("shows dev's scale-from-zero group at $0 when idle", () => {
    const md = render("dev");
    expect(md).toMatch(/scale from zero: `l4`/);
    expect(md).toContain("**GPUs: 0 at minimum scale, 2 at maximum; GPU nodes $0–");
  });

  it("says the local stack has no GPUs and creates no node groups (what it does create: test/images-config.test.ts)", () => {
    const md = render("local");
    expect(md).toMatch(/the stack creates no node groups/);
    expect(md).not.toContain("Load Balancer Controller");
    expect(md).toMatch(/No GPU node groups: every model runs on CPU/);
  });
});

describe("plan.md notes on minimum scale", () => {
  it("says when the models' minimum replicas keep more GPU nodes than minSize", () => {
    const config = parseStack("prod");
    const md = gpuSummary({
      stack: "prod",
      config,
      plan: { objects: [], helmReleases: [], resources: [] },
      placeholders: [],
    } as SummaryContext)!;
    expect(md).toContain(
      "the models on `l4` request 5 nvidia.com/gpu at their minimum replicas, more than its 3 node(s) at minSize give; the autoscaler keeps 5 node(s)",
    );
    expect(md).toContain(`about $${Math.round(5 * 0.9776 * 730).toLocaleString("en-US")}/month`);
    expect(md).not.toContain("the models on `l40s` request");
  });
});
