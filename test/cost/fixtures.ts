import {
  ClusterSchema,
  CostSchema,
  GpuNodeGroupSchema,
  ModelConfigSchema,
  type ClusterConfig,
  type CostConfig,
  type GpuNodeGroupConfig,
  type ModelConfig,
} from "../../components/config";
import type { CostRulesInput } from "../../components/observability/cost/rules";

/**
 * A small EKS stack for the cost tests, with numbers chosen so the hand computation stays readable:
 *  - node group `l4`: g6.xlarge (1 L4, $0.8048/h on demand), time-sliced x4: 4 nvidia.com/gpu per node
 *  - node group `a10`: g5.xlarge on SPOT at $0.40/h (cost.spotUsdPerHour), 1 nvidia.com/gpu per node
 *  - system nodes m6i.large ($0.096/h), EKS control plane $0.10/h
 *  - emb (embed, tokens, 100 tokens/s per replica), rr (rerank, tokens, no throughput figure), big (embed on a10),
 *    zero (rerank, scale to zero, no pod)
 */
export const NS = "models";

const model = (m: Record<string, unknown>): ModelConfig => ModelConfigSchema.parse(m);
export const MODELS: ModelConfig[] = [
  model({
    name: "emb",
    model: "BAAI/bge-large-zh-v1.5",
    engine: "vllm",
    task: "embed",
    replicas: { min: 1, max: 2 },
    gpu: { nodeGroup: "l4" },
    slo: { p99LatencyMs: 300 },
  }),
  model({
    name: "rr",
    model: "BAAI/bge-reranker-v2-m3",
    engine: "vllm",
    task: "rerank",
    replicas: { min: 1, max: 2 },
    gpu: { nodeGroup: "l4", count: 2 },
    slo: { p99LatencyMs: 1000 },
  }),
  model({
    name: "big",
    model: "BAAI/bge-large-zh-v1.5",
    engine: "vllm",
    task: "embed",
    replicas: { min: 1, max: 1 },
    gpu: { nodeGroup: "a10" },
    slo: { p99LatencyMs: 300 },
  }),
  model({
    name: "zero",
    model: "BAAI/bge-reranker-v2-m3",
    engine: "vllm",
    task: "rerank",
    replicas: { min: 0, max: 1 },
    autoscaling: { activeHours: { timezone: "UTC", start: "08:00", end: "18:00" } },
    gpu: { nodeGroup: "l4" },
    slo: { p99LatencyMs: 1000 },
  }),
];

export const CLUSTER: ClusterConfig = ClusterSchema.parse({
  mode: "eks",
  name: "cost-test",
  region: "us-east-1",
  kubernetesVersion: "1.33",
  availabilityZones: ["us-east-1a"],
  systemNodeGroup: { instanceType: "m6i.large", minSize: 1, maxSize: 2 },
});

export const GPU_NODE_GROUPS: Record<string, GpuNodeGroupConfig> = {
  l4: GpuNodeGroupSchema.parse({
    instanceTypes: ["g6.xlarge"],
    minSize: 1,
    maxSize: 2,
    sharing: { timeSlicingReplicas: 4 },
  }),
  a10: GpuNodeGroupSchema.parse({ instanceTypes: ["g5.xlarge"], capacityType: "SPOT", minSize: 1, maxSize: 1 }),
};

export const COST: CostConfig = CostSchema.parse({
  budgets: { "team-a": 25, "team-b": 1000 },
  spotUsdPerHour: { "g5.xlarge": 0.4 },
  models: { emb: { workPerSecondPerReplica: 100 } },
});

export const INPUT: CostRulesInput = {
  models: MODELS,
  cluster: CLUSTER,
  gpuNodeGroups: GPU_NODE_GROUPS,
  cost: COST,
  modelsNamespace: NS,
  runbookBaseUrl: "https://runbooks.example.invalid/runbooks.md",
};

/** kube-state-metrics series of one node (labels as KSM writes them with our allow-list) for `steps` minutes. */
export function nodeSeries(node: string, group: string, type: string, gpus: number, steps = 120) {
  return [
    {
      series: `kube_node_labels{node="${node}",label_retrieval_stack_io_node_group="${group}",label_node_kubernetes_io_instance_type="${type}"}`,
      values: `1x${steps}`,
    },
    ...(gpus
      ? [
          {
            series: `kube_node_status_allocatable{node="${node}",resource="nvidia_com_gpu",unit="integer"}`,
            values: `${gpus}x${steps}`,
          },
        ]
      : []),
  ];
}

/**
 * kube-state-metrics series of one model pod (GPU request, phase, model label) that exists for `steps` minutes
 * and then disappears (a staleness marker, as when KSM stops exporting a deleted pod).
 */
export function podSeries(
  pod: string,
  model: string,
  node: string,
  gpus: number,
  phase: string,
  steps = 120,
  gone = false,
) {
  const id = `namespace="${NS}",pod="${pod}"`;
  const tail = gone ? " stale" : "";
  return [
    {
      series: `kube_pod_container_resource_requests{${id},container="engine",node="${node}",resource="nvidia_com_gpu",unit="integer"}`,
      values: `${gpus}x${steps}${tail}`,
    },
    { series: `kube_pod_status_phase{${id},phase="${phase}"}`, values: `1x${steps}${tail}` },
    { series: `kube_pod_labels{${id},label_retrieval_stack_io_model="${model}"}`, values: `1x${steps}${tail}` },
  ];
}

/** The gateway's counter of one key and model, growing by `perMinute` every minute (the test interval). */
export function counter(metric: string, key: string, model: string, perMinute: number, steps = 120) {
  return {
    series: `${metric}{key="${key}",model="${model}",namespace="${NS}",pod="gateway-0"}`,
    values: `0+${perMinute}x${steps}`,
  };
}
