/**
 * A local stack with one model per engine dialect the gateway speaks, for the gateway suites; upstreams are
 * pointed at fake engines (test/fixtures/engine-server.ts) with --upstream.
 */
export const KEY_A = "key-a-0123456789abcdef";
export const KEY_B = "key-b-0123456789abcdef";

const gpu = { replicas: { min: 1, max: 1 }, gpu: { nodeGroup: "l4" }, slo: { p99LatencyMs: 1000 } };
const cpu = { replicas: { min: 1, max: 1 }, resources: { cpu: "1", memory: "2Gi" }, slo: { p99LatencyMs: 1000 } };

export const GATEWAY_MODELS = [
  { name: "emb-vllm", model: "Qwen/Qwen3-Embedding-0.6B", engine: "vllm", task: "embed", ...gpu },
  { name: "emb-tei", model: "BAAI/bge-small-zh-v1.5", engine: "tei", task: "embed", ...cpu },
  {
    name: "emb-kv1",
    model: "BAAI/bge-base-zh-v1.5",
    engine: "kserve",
    task: "embed",
    ...gpu,
    engineOptions: { backend: "vllm" },
  },
  { name: "emb-kv2", model: "thenlper/gte-base", engine: "kserve", task: "embed", ...cpu },
  { name: "rr-vllm", model: "BAAI/bge-reranker-base", engine: "vllm", task: "rerank", ...gpu },
  { name: "rr-tei", model: "BAAI/bge-reranker-base", engine: "tei", task: "rerank", ...cpu },
  { name: "rr-sglang", model: "BAAI/bge-reranker-base", engine: "sglang", task: "rerank", ...gpu },
  { name: "rr-xinf", model: "BAAI/bge-reranker-base", engine: "xinference", task: "rerank", ...cpu },
];

/** Another TEI embedding model (for faults: a dead or hanging engine). */
export const teiEmbed = (name: string) => ({
  name,
  model: "BAAI/bge-small-zh-v1.5",
  engine: "tei",
  task: "embed",
  ...cpu,
});

export function gatewayStack(
  gateway: Record<string, unknown> = {},
  extraModels: unknown[] = [],
): Record<string, unknown> {
  return {
    environment: "local",
    cluster: { mode: "existing", name: "local", context: "kind-test" },
    gpuNodeGroups: { l4: { instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 8, diskSizeGiB: 200 } },
    models: [...GATEWAY_MODELS, ...extraModels],
    ingress: { tls: { mode: "none" } },
    verification: { mode: "off" },
    gateway: { dialects: { "emb-kv1": "kserve-v1", "emb-kv2": "kserve-v2" }, ...gateway },
  };
}
