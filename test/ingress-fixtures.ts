// Shared inputs for the ingress tests: one model per engine (every dialect), configs per environment.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  IngressSchema,
  ModelConfigSchema,
  type Environment,
  type IngressConfig,
  type ModelConfig,
} from "../components/config";
import { Ingress } from "../components/ingress";
import { renderResources, type Rendered } from "./harness";

export const KEYS = ["alpha-key-0123456789abcdef", "beta-key-0123456789abcdef"];

const model = (name: string, engine: string, task: string, hf: string): ModelConfig =>
  ModelConfigSchema.parse({ name, model: hf, engine, task, replicas: { min: 2, max: 3 }, slo: { p99LatencyMs: 500 } });

/** One model on every engine, both tasks represented. */
export const EVERY_ENGINE: ModelConfig[] = [
  model("bge-large-zh", "sglang", "embed", "BAAI/bge-large-zh-v1.5"),
  model("gte-base", "kserve", "embed", "thenlper/gte-base"),
  model("qwen3-reranker", "vllm", "rerank", "Qwen/Qwen3-Reranker-4B"),
  model("bge-small-zh", "tei", "embed", "BAAI/bge-small-zh-v1.5"),
  model("bge-reranker-base", "tei", "rerank", "BAAI/bge-reranker-base"),
  model("bge-reranker-m3", "xinference", "rerank", "BAAI/bge-reranker-v2-m3"),
];

export const ingressConfig = (input: Record<string, unknown>): IngressConfig => IngressSchema.parse(input);

export const PROD_INGRESS = {
  host: "retrieval.example.com",
  exposure: "internet-facing",
  allowedSourceCidrs: ["10.0.0.0/8", "203.0.113.0/24"],
  tls: { mode: "acme", email: "platform@example.com" },
  rateLimit: { requestsPerSecond: 100, burst: 200 },
  modelRateLimits: {
    "qwen3-reranker": { requestsPerSecond: 20, burst: 40 },
    "bge-reranker-m3": { requestsPerSecond: 0.5 },
  },
};

export interface RenderInput {
  readonly environment: Environment;
  readonly ingress: Record<string, unknown>;
  readonly models?: ModelConfig[];
  readonly keys?: string[] | null;
  readonly monitoring?: boolean;
}

export async function renderIngress(i: RenderInput): Promise<{ rendered: Rendered; component: () => Ingress }> {
  let component: Ingress | undefined;
  const rendered = await renderResources(() => {
    const provider = new k8s.Provider("k8s", {});
    component = new Ingress("ingress", {
      provider,
      environment: i.environment,
      ingress: ingressConfig(i.ingress),
      models: i.models ?? EVERY_ENGINE,
      modelNamespace: "retrieval",
      apiKeys: i.keys === null ? undefined : (pulumi.secret(i.keys ?? KEYS) as pulumi.Output<string[]>),
      monitoring: i.monitoring ?? true,
    });
  });
  return { rendered, component: () => component! };
}

export const HELM = "kubernetes:helm.sh/v3:Release";
