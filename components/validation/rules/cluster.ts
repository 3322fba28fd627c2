import { lookupInstanceType, GPU_INSTANCE_TYPES } from "../../cluster/instances";
import { CLUSTER_AUTOSCALER_IMAGE_TAGS } from "../../cluster/autoscaler";
import { RESERVED_NODE_LABELS } from "../../cluster/node-groups";
import { gpuNodeGroupCapacity } from "../../cluster/capacity";
import { profileOf } from "../../config/environments";
import type { EksClusterConfig } from "../../config/cluster";
import type { Rule, RuleProblem } from "./types";

export const clusterRules: Rule = (config) => {
  const out: RuleProblem[] = [];
  const { environment, cluster } = config;
  if (environment && cluster) {
    const profile = profileOf(environment);
    if (!profile.cloud && cluster.mode !== "existing")
      out.push({
        path: ["cluster", "mode"],
        value: cluster.mode,
        message: `the local stack runs on an existing cluster and creates no cloud resources. Fix: set cluster.mode: existing.`,
      });
    if (cluster.mode === "eks") {
      const zones = cluster.availabilityZones;
      if (zones.length === 0)
        out.push({
          path: ["cluster", "availabilityZones"],
          value: zones,
          message: `is empty: nodes need at least one zone. Fix: list zones such as ["${cluster.region}a", "${cluster.region}b", "${cluster.region}c"].`,
        });
      else if (zones.length < profile.minZones)
        out.push({
          path: ["cluster", "availabilityZones"],
          value: zones,
          message: `${environment} needs at least ${profile.minZones} zones so that losing one leaves capacity. Fix: add zones of ${cluster.region}.`,
        });
      zones.forEach((z, i) => {
        if (!z.startsWith(cluster.region))
          out.push({
            path: ["cluster", "availabilityZones", i],
            value: z,
            message: `is not a zone of region ${cluster.region}. Fix: use e.g. "${cluster.region}a".`,
          });
      });
      if (new Set(zones).size !== zones.length)
        out.push({
          path: ["cluster", "availabilityZones"],
          value: zones,
          message: `lists a zone twice. Fix: list each zone once.`,
        });
      out.push(...apiAccessProblems(cluster));
      const s = cluster.systemNodeGroup;
      out.push(...sizeProblems(["cluster", "systemNodeGroup"], s.minSize, s.maxSize, s.desiredSize));
      if (cluster.nodeAutoscaler === "karpenter")
        out.push({
          path: ["cluster", "nodeAutoscaler"],
          value: cluster.nodeAutoscaler,
          message: `is not implemented yet: GPU node groups are EKS managed node groups scaled by cluster-autoscaler (README, "GPU capacity"). Fix: set nodeAutoscaler: cluster-autoscaler.`,
        });
      else if (!CLUSTER_AUTOSCALER_IMAGE_TAGS[cluster.kubernetesVersion])
        out.push({
          path: ["cluster", "kubernetesVersion"],
          value: cluster.kubernetesVersion,
          message: `has no pinned cluster-autoscaler release (it must match the cluster's minor version). Fix: use one of ${Object.keys(
            CLUSTER_AUTOSCALER_IMAGE_TAGS,
          )
            .map((v) => `"${v}"`)
            .join(", ")}, or add the release to components/cluster/autoscaler.ts.`,
        });
      if (zones.length > 0) {
        for (const [name, g] of Object.entries(config.gpuNodeGroups ?? {})) {
          // One managed node group per zone, and EKS needs maxSize >= 1 in each.
          if (g.maxSize < zones.length)
            out.push({
              path: ["gpuNodeGroups", name, "maxSize"],
              value: g.maxSize,
              message: `is below the number of zones (${zones.length}): each zone gets its own node group with at least one node at most. Fix: set maxSize >= ${zones.length}, or list fewer zones.`,
            });
        }
      }
    }
  }
  for (const [name, g] of Object.entries(config.gpuNodeGroups ?? {})) {
    const at = (...p: PropertyKey[]) => ["gpuNodeGroups", name, ...p];
    out.push(...sizeProblems(at(), g.minSize, g.maxSize, g.desiredSize));
    const known = g.instanceTypes.map((t) => ({ t, spec: lookupInstanceType(t) }));
    known.forEach(({ t, spec }, i) => {
      if (!spec)
        out.push({
          path: at("instanceTypes", i),
          value: t,
          message: `is not in the GPU instance catalogue. Fix: use one of ${Object.keys(GPU_INSTANCE_TYPES).join(", ")} (or add it to components/cluster/instances.ts).`,
        });
    });
    const models = new Set(known.flatMap(({ spec }) => (spec ? [`${spec.gpuModel}/${spec.gpus}`] : [])));
    if (models.size > 1)
      out.push({
        path: at("instanceTypes"),
        value: g.instanceTypes,
        message: `mixes GPU models or GPU counts (${[...models].join(", ")}); scheduling and sizing assume one kind per group. Fix: split them into separate node groups.`,
      });
    if (environment && profileOf(environment).spotNeedsOptIn && g.capacityType === "SPOT" && !g.allowSpotInProd)
      out.push({
        path: at("capacityType"),
        value: g.capacityType,
        message: `spot GPUs can be reclaimed with two minutes' notice, dropping replicas in ${environment}. Fix: use ON_DEMAND, or set allowSpotInProd: true to accept it.`,
      });
    if (g.sharing.timeSlicingReplicas !== undefined && g.sharing.migStrategy !== "none")
      out.push({
        path: at("sharing"),
        value: g.sharing,
        message: `time-slicing and MIG are exclusive. Fix: set either timeSlicingReplicas or migStrategy, not both.`,
      });
    for (const key of Object.keys(g.labels)) {
      if ((RESERVED_NODE_LABELS as readonly string[]).includes(key))
        out.push({
          path: at("labels", key),
          value: g.labels[key],
          message: `is a label the stack sets itself on GPU nodes (scheduling and autoscaling depend on it). Fix: remove it, or use another key.`,
        });
    }
    if (g.sharing.timeSlicingReplicas !== undefined) {
      (config.models ?? []).forEach((m, i) => {
        if (m.gpu?.nodeGroup === name && m.gpu.count > 1)
          out.push({
            path: ["models", i, "gpu", "count"],
            value: m.gpu.count,
            message: `node group "${name}" time-slices its GPUs, and the device plugin refuses more than one slice per container (a second slice would add no GPU). Fix: set gpu.count: 1, or use a node group without timeSlicingReplicas.`,
          });
      });
    }
    const capacity = gpuNodeGroupCapacity(name, g, config.models ?? []);
    if (capacity && capacity.requestedGpus.min > capacity.schedulableGpus.max)
      out.push({
        path: at("maxSize"),
        value: g.maxSize,
        message: `gives at most ${capacity.schedulableGpus.max} nvidia.com/gpu, but the models pinned to it (${capacity.models.join(", ")}) need ${capacity.requestedGpus.min} at their minimum replicas, so pods would stay Pending. Fix: raise maxSize, enable time-slicing, or lower the models' replicas.min.`,
      });
    const first = known[0]?.spec;
    if (first && g.sharing.migStrategy !== "none" && !first.mig)
      out.push({
        path: at("sharing", "migStrategy"),
        value: g.sharing.migStrategy,
        message: `${first.gpuModel} GPUs do not support MIG (only A100/H100 do). Fix: set migStrategy: none, or use time-slicing.`,
      });
  }
  return out;
};

function sizeProblems(at: PropertyKey[], min: number, max: number, desired: number | undefined): RuleProblem[] {
  const out: RuleProblem[] = [];
  if (min > max)
    out.push({
      path: [...at, "minSize"],
      value: min,
      message: `is above maxSize (${max}). Fix: set minSize <= maxSize.`,
    });
  if (desired !== undefined && (desired < min || desired > max))
    out.push({
      path: [...at, "desiredSize"],
      value: desired,
      message: `must lie within [minSize ${min}, maxSize ${max}]. Fix: change it or remove it (defaults to minSize).`,
    });
  return out;
}

/**
 * The deploy must reach the API server: a GitHub-hosted runner only over the public endpoint (it has no path into
 * the VPC), and a public endpoint is opened only to the CIDRs listed (docs/deploying.md).
 */
function apiAccessProblems(cluster: EksClusterConfig): RuleProblem[] {
  const out: RuleProblem[] = [];
  const at = (...p: PropertyKey[]) => ["cluster", ...p];
  if (!cluster.endpointPublicAccess && cluster.deployRunner.type === "github-hosted")
    out.push({
      path: at("deployRunner"),
      value: cluster.deployRunner,
      message: `a GitHub-hosted runner cannot reach the private API endpoint (endpointPublicAccess is false), so \`pulumi up\` could not deploy. Fix: set deployRunner: { type: self-hosted, labels: [...] } for a runner with a network path to the VPC (docs/deploying.md, "What must exist for a private cluster"), or set endpointPublicAccess: true with publicAccessCidrs that hold the runner's egress addresses.`,
    });
  if (cluster.endpointPublicAccess && cluster.publicAccessCidrs.length === 0)
    out.push({
      path: at("publicAccessCidrs"),
      value: cluster.publicAccessCidrs,
      message: `is empty while endpointPublicAccess is true: say who may reach the public API endpoint. Fix: list the CIDRs of your runners and operators, or ["0.0.0.0/0"] to open it to the whole internet on purpose.`,
    });
  if (!cluster.endpointPublicAccess && cluster.publicAccessCidrs.length > 0)
    out.push({
      path: at("publicAccessCidrs"),
      value: cluster.publicAccessCidrs,
      message: `has no effect: endpointPublicAccess is false. Fix: remove publicAccessCidrs, or set endpointPublicAccess: true.`,
    });
  return out;
}
