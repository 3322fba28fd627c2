import { gpuInstanceOf, lookupInstanceType, GPU_INSTANCE_TYPES, CPU_INSTANCE_PRICES } from "../../cluster/instances";
import { CLUSTER_AUTOSCALER_IMAGE_TAGS } from "../../cluster/autoscaler";
import { RESERVED_NODE_LABELS } from "../../cluster/node-groups";
import { gpuNodeGroupCapacity } from "../../cluster/capacity";
import { profileOf } from "../../config/environments";
import { problem } from "../../config/errors";
import type { EksClusterConfig, GpuNodeGroupConfig } from "../../config/cluster";
import type { PlatformConfig } from "../../config/schema";
import { closest } from "../../config/suggest";
import type { Rule, RuleProblem } from "./types";

type Config = Partial<PlatformConfig>;
const quoted = (xs: Iterable<string>) => [...xs].map((x) => `"${x}"`).join(", ");
const oneOf = (name: string, known: readonly string[], where: string) => {
  const near = closest(name, known);
  return `${near ? `did you mean "${near}"? ` : ""}use one of ${known.join(", ")} (or add it to ${where})`;
};

export const clusterRules: Rule = (config) => {
  const { environment, cluster } = config;
  const out: RuleProblem[] = [];
  if (environment && cluster && !profileOf(environment).cloud && cluster.mode !== "existing")
    out.push(
      problem(
        ["cluster", "mode"],
        cluster.mode,
        "the local stack runs on an existing cluster and creates no cloud resources",
        "set cluster.mode: existing",
      ),
    );
  if (cluster?.mode === "eks") out.push(...eksProblems(config, cluster));
  for (const [name, g] of Object.entries(config.gpuNodeGroups ?? {}))
    out.push(...gpuNodeGroupProblems(config, name, g));
  return out;
};

function eksProblems(config: Config, cluster: EksClusterConfig): RuleProblem[] {
  const s = cluster.systemNodeGroup;
  return [
    ...zoneProblems(config, cluster),
    ...vpcProblems(cluster),
    ...sizeProblems(["cluster", "systemNodeGroup"], s.minSize, s.maxSize, s.desiredSize),
    ...systemInstanceProblems(cluster),
    ...autoscalerProblems(cluster),
    ...perZoneSizeProblems(config, cluster),
    ...apiAccessProblems(cluster),
  ];
}

function zoneProblems(config: Config, cluster: EksClusterConfig): RuleProblem[] {
  const zones = cluster.availabilityZones;
  const at = ["cluster", "availabilityZones"];
  const { region } = cluster;
  const min = config.environment ? profileOf(config.environment).minZones : 1;
  const out: RuleProblem[] = [];
  if (zones.length === 0)
    out.push(
      problem(
        at,
        zones,
        "is empty: nodes need at least one zone",
        `list zones such as ["${region}a", "${region}b", "${region}c"]`,
      ),
    );
  else if (zones.length < min)
    out.push(
      problem(
        at,
        zones,
        `${config.environment} needs at least ${min} zones so that losing one leaves capacity`,
        `add zones of ${region}`,
      ),
    );
  // A zone's name is its region's code followed by one letter (AWS docs, "AWS Availability Zones", read
  // 2026-12-07); the region with the most zones, us-east-1, has a to f.
  zones.forEach((z, i) => {
    if (!z.startsWith(region) || z.length !== region.length + 1)
      out.push(
        problem(
          [...at, i],
          z,
          `is not a zone of region ${region} (the region followed by one letter)`,
          `use e.g. "${region}a"`,
        ),
      );
    else if (z.slice(-1) > "f")
      out.push(
        problem(
          [...at, i],
          z,
          "has a zone letter past f, and no AWS region has more than six zones (a-f)",
          `use e.g. "${region}a"`,
        ),
      );
  });
  if (new Set(zones).size !== zones.length) out.push(problem(at, zones, "lists a zone twice", "list each zone once"));
  return out;
}

/** AWS VPCs take an IPv4 block between /16 and /28 (EC2 API reference, CreateVpc; read 2026-12-01). */
function vpcProblems(cluster: EksClusterConfig): RuleProblem[] {
  const prefix = Number(cluster.vpcCidr.split("/")[1]);
  if (prefix >= 16 && prefix <= 28) return [];
  return [
    problem(
      ["cluster", "vpcCidr"],
      cluster.vpcCidr,
      `has a /${prefix} prefix; an AWS VPC takes /16 (65,536 addresses) to /28`,
      'use e.g. "10.40.0.0/16"',
    ),
  ];
}

/** The system node group's type must be one the stack knows (x86_64, priced in components/cluster/instances.ts). */
function systemInstanceProblems(cluster: EksClusterConfig): RuleProblem[] {
  const type = cluster.systemNodeGroup.instanceType;
  if (CPU_INSTANCE_PRICES[type] !== undefined) return [];
  const known = Object.keys(CPU_INSTANCE_PRICES);
  return [
    problem(
      ["cluster", "systemNodeGroup", "instanceType"],
      type,
      "is not a system instance type this stack knows (x86_64 for the AL2023 standard AMI, with a price for the plan)",
      oneOf(type, known, "CPU_INSTANCE_PRICES in components/cluster/instances.ts"),
    ),
  ];
}

function autoscalerProblems(cluster: EksClusterConfig): RuleProblem[] {
  if (cluster.nodeAutoscaler === "karpenter")
    return [
      problem(
        ["cluster", "nodeAutoscaler"],
        cluster.nodeAutoscaler,
        "is not implemented yet: GPU node groups are EKS managed node groups scaled by cluster-autoscaler",
        "set nodeAutoscaler: cluster-autoscaler",
      ),
    ];
  if (CLUSTER_AUTOSCALER_IMAGE_TAGS[cluster.kubernetesVersion]) return [];
  return [
    problem(
      ["cluster", "kubernetesVersion"],
      cluster.kubernetesVersion,
      "has no pinned cluster-autoscaler release (it must match the cluster's minor version)",
      `use one of ${quoted(Object.keys(CLUSTER_AUTOSCALER_IMAGE_TAGS))}, ` +
        "or add the release to components/cluster/autoscaler.ts",
    ),
  ];
}

/** One managed node group per zone, and EKS needs maxSize >= 1 in each. */
function perZoneSizeProblems(config: Config, cluster: EksClusterConfig): RuleProblem[] {
  const zones = cluster.availabilityZones.length;
  if (zones === 0) return [];
  return Object.entries(config.gpuNodeGroups ?? {})
    .filter(([, g]) => g.maxSize < zones)
    .map(([name, g]) =>
      problem(
        ["gpuNodeGroups", name, "maxSize"],
        g.maxSize,
        `is below the number of zones (${zones}): each zone gets its own node group with at least one node at most`,
        `set maxSize >= ${zones}, or list fewer zones`,
      ),
    );
}

function gpuNodeGroupProblems(config: Config, name: string, g: GpuNodeGroupConfig): RuleProblem[] {
  const at = (...p: PropertyKey[]) => ["gpuNodeGroups", name, ...p];
  return [
    ...sizeProblems(at(), g.minSize, g.maxSize, g.desiredSize),
    ...instanceTypeProblems(name, g),
    ...spotProblems(config, name, g),
    ...sharingProblems(config, name, g),
    ...reservedLabelProblems(name, g),
    ...capacityProblems(config, name, g),
  ];
}

function instanceTypeProblems(name: string, g: GpuNodeGroupConfig): RuleProblem[] {
  const at = ["gpuNodeGroups", name, "instanceTypes"];
  const known = Object.keys(GPU_INSTANCE_TYPES);
  const out = g.instanceTypes.flatMap((t, i) =>
    lookupInstanceType(t)
      ? []
      : [
          problem(
            [...at, i],
            t,
            "is not in the GPU instance catalogue",
            oneOf(t, known, "components/cluster/instances.ts"),
          ),
        ],
  );
  const kinds = new Set(
    g.instanceTypes.flatMap((t) => {
      const spec = lookupInstanceType(t);
      return spec ? [`${spec.gpuModel}/${spec.gpus}`] : [];
    }),
  );
  if (kinds.size > 1)
    out.push(
      problem(
        at,
        g.instanceTypes,
        `mixes GPU models or GPU counts (${[...kinds].join(", ")}); scheduling and sizing assume one kind per group`,
        "split them into separate node groups",
      ),
    );
  return out;
}

function spotProblems(config: Config, name: string, g: GpuNodeGroupConfig): RuleProblem[] {
  const env = config.environment;
  if (!env || !profileOf(env).spotNeedsOptIn || g.capacityType !== "SPOT" || g.allowSpotInProd) return [];
  return [
    problem(
      ["gpuNodeGroups", name, "capacityType"],
      g.capacityType,
      `spot GPUs can be reclaimed with two minutes' notice, dropping replicas in ${env}`,
      "use ON_DEMAND, or set allowSpotInProd: true to accept it",
    ),
  ];
}

function sharingProblems(config: Config, name: string, g: GpuNodeGroupConfig): RuleProblem[] {
  const at = (...p: PropertyKey[]) => ["gpuNodeGroups", name, "sharing", ...p];
  const out: RuleProblem[] = [];
  const slicing = g.sharing.timeSlicingReplicas !== undefined;
  if (slicing && g.sharing.migStrategy !== "none")
    out.push(
      problem(
        at(),
        g.sharing,
        "time-slicing and MIG are exclusive",
        "set either timeSlicingReplicas or migStrategy, not both",
      ),
    );
  const first = gpuInstanceOf(g);
  if (first && g.sharing.migStrategy !== "none" && !first.mig)
    out.push(
      problem(
        at("migStrategy"),
        g.sharing.migStrategy,
        `${first.gpuModel} GPUs do not support MIG (only A100/H100 do)`,
        "set migStrategy: none, or use time-slicing",
      ),
    );
  if (!slicing) return out;
  (config.models ?? []).forEach((m, i) => {
    if (m.gpu?.nodeGroup === name && m.gpu.count > 1)
      out.push(
        problem(
          ["models", i, "gpu", "count"],
          m.gpu.count,
          `node group "${name}" time-slices its GPUs, and the device plugin refuses more than one slice per container`,
          "set gpu.count: 1, or use a node group without timeSlicingReplicas",
        ),
      );
  });
  return out;
}

/** Labels the stack sets itself on GPU nodes (format and Kubernetes' reserved prefixes are checked by the schema). */
function reservedLabelProblems(name: string, g: GpuNodeGroupConfig): RuleProblem[] {
  return Object.keys(g.labels)
    .filter((key) => (RESERVED_NODE_LABELS as readonly string[]).includes(key))
    .map((key) =>
      problem(
        ["gpuNodeGroups", name, "labels", key],
        g.labels[key],
        "is a label the stack sets itself on GPU nodes (scheduling and autoscaling depend on it)",
        "remove it, or use another key",
      ),
    );
}

function capacityProblems(config: Config, name: string, g: GpuNodeGroupConfig): RuleProblem[] {
  const models = config.models ?? [];
  // A model whose own replica range is wrong is reported at its replicas; the derived capacity would mislead.
  if (models.some((m) => m.gpu?.nodeGroup === name && m.replicas.min > m.replicas.max)) return [];
  const capacity = gpuNodeGroupCapacity(name, g, models);
  if (!capacity || capacity.requestedGpus.min <= capacity.schedulableGpus.max) return [];
  return [
    problem(
      ["gpuNodeGroups", name, "maxSize"],
      g.maxSize,
      `gives at most ${capacity.schedulableGpus.max} nvidia.com/gpu, but the models pinned to it ` +
        `(${capacity.models.join(", ")}) need ${capacity.requestedGpus.min} at their minimum replicas, ` +
        "so pods would stay Pending",
      "raise maxSize, enable time-slicing, or lower the models' replicas.min",
    ),
  ];
}

function sizeProblems(at: PropertyKey[], min: number, max: number, desired: number | undefined): RuleProblem[] {
  const out: RuleProblem[] = [];
  if (min > max) out.push(problem([...at, "minSize"], min, `is above maxSize (${max})`, "set minSize <= maxSize"));
  if (desired !== undefined && (desired < min || desired > max))
    out.push(
      problem(
        [...at, "desiredSize"],
        desired,
        `must lie within [minSize ${min}, maxSize ${max}]`,
        "change it or remove it (defaults to minSize)",
      ),
    );
  return out;
}

/**
 * The deploy must reach the API server: a GitHub-hosted runner only over the public endpoint (it has no path into
 * the VPC), and a public endpoint is opened only to the CIDRs listed (docs/deploying.md).
 */
function apiAccessProblems(cluster: EksClusterConfig): RuleProblem[] {
  const out: RuleProblem[] = [];
  const { endpointPublicAccess: open, publicAccessCidrs: cidrs, deployRunner: runner } = cluster;
  if (!open && runner.type === "github-hosted")
    out.push(
      problem(
        ["cluster", "deployRunner"],
        runner,
        "a GitHub-hosted runner cannot reach the private API endpoint (endpointPublicAccess is false), so " +
          "`pulumi up` could not deploy",
        "set deployRunner: { type: self-hosted, labels: [...] } for a runner with a network path to the VPC " +
          '(docs/deploying.md, "What must exist for a private cluster"), or set endpointPublicAccess: true with ' +
          "publicAccessCidrs that hold the runner's egress addresses",
      ),
    );
  if (open && cidrs.length === 0)
    out.push(
      problem(
        ["cluster", "publicAccessCidrs"],
        cidrs,
        "is empty while endpointPublicAccess is true: say who may reach the public API endpoint",
        'list the CIDRs of your runners and operators, or ["0.0.0.0/0"] to open it to the whole internet on purpose',
      ),
    );
  if (!open && cidrs.length > 0)
    out.push(
      problem(
        ["cluster", "publicAccessCidrs"],
        cidrs,
        "has no effect: endpointPublicAccess is false",
        "remove publicAccessCidrs, or set endpointPublicAccess: true",
      ),
    );
  return out;
}
