import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { GpuNodeGroupSchema, ModelConfigSchema, type Environment, type ModelConfig } from "../components/config";
import type { z } from "zod";
import { ModelService, modelContext, type ModelServiceArgs } from "../components/serving/model-service";
import { MODELS_NAMESPACE } from "../components/k8s/namespaces";
import type { ModelContext } from "../components/serving/engines/types";
import { renderResources, type Rendered } from "./harness";

export type ModelInput = z.input<typeof ModelConfigSchema>;
type GroupInput = z.input<typeof GpuNodeGroupSchema>;

export const GROUPS = {
  l4: { instanceTypes: ["g6.xlarge"], minSize: 2, maxSize: 4 },
  l40s: { instanceTypes: ["g6e.xlarge"], minSize: 2, maxSize: 4 },
} satisfies Record<string, GroupInput>;

/** The seeds' models, as the issue lists them. */
export const SEEDS = {
  qwen3Reranker: {
    name: "qwen3-reranker",
    model: "Qwen/Qwen3-Reranker-4B",
    engine: "vllm",
    task: "rerank",
    replicas: { min: 2, max: 4 },
    gpu: { nodeGroup: "l40s" },
    maxModelLen: 32768,
    slo: { p99LatencyMs: 2000 },
  },
  bgeLargeZh: {
    name: "bge-large-zh",
    model: "BAAI/bge-large-zh-v1.5",
    engine: "sglang",
    task: "embed",
    replicas: { min: 2, max: 4 },
    gpu: { nodeGroup: "l4" },
    slo: { p99LatencyMs: 300 },
  },
  gteBase: {
    name: "gte-base",
    model: "thenlper/gte-base",
    engine: "kserve",
    task: "embed",
    replicas: { min: 2, max: 3 },
    gpu: { nodeGroup: "l4" },
    slo: { p99LatencyMs: 300 },
  },
  xinferenceReranker: {
    name: "bge-reranker-v2",
    model: "BAAI/bge-reranker-v2-m3",
    engine: "xinference",
    task: "rerank",
    replicas: { min: 2, max: 3 },
    gpu: { nodeGroup: "l4" },
    slo: { p99LatencyMs: 800 },
  },
  bgeSmallZhCpu: {
    name: "bge-small-zh",
    model: "BAAI/bge-small-zh-v1.5",
    engine: "tei",
    task: "embed",
    replicas: { min: 1, max: 2 },
    resources: { cpu: "2", memory: "2Gi" },
    slo: { p99LatencyMs: 500 },
  },
  bgeRerankerBaseCpu: {
    name: "bge-reranker-base",
    model: "BAAI/bge-reranker-base",
    engine: "tei",
    task: "rerank",
    replicas: { min: 1, max: 2 },
    resources: { cpu: "2", memory: "3Gi" },
    slo: { p99LatencyMs: 1500 },
  },
} satisfies Record<string, ModelInput>;

export function parseModel(input: ModelInput): ModelConfig {
  return ModelConfigSchema.parse(input);
}

export function groupOf(model: ModelConfig) {
  const g = model.gpu ? (GROUPS as Record<string, GroupInput>)[model.gpu.nodeGroup] : undefined;
  return g ? GpuNodeGroupSchema.parse(g) : undefined;
}

export function contextOf(input: ModelInput, environment: Environment = "prod"): ModelContext {
  const model = parseModel(input);
  return modelContext({ model, environment, gpuNodeGroup: groupOf(model) });
}

export interface RenderOptions extends Partial<Omit<ModelServiceArgs, "model" | "hfToken">> {
  readonly hfToken?: boolean;
}

/** Renders one ModelService under the offline runtime (the model as a user writes it, defaults not applied). */
export async function renderModel(input: ModelInput, o: RenderOptions = {}): Promise<RenderedModel> {
  const timeouts = new Map<string, { create: string; update: string }>();
  const { hfToken, ...rest } = o;
  let component: ModelService | undefined;
  const r = await renderResources(() => {
    recordTimeouts(timeouts);
    const provider = new k8s.Provider("k8s", {});
    const parsed = ModelConfigSchema.safeParse(input);
    const placement = parsed.success ? groupOf(parsed.data) : undefined;
    component = new ModelService(input.name, {
      provider,
      environment: "prod",
      namespace: MODELS_NAMESPACE,
      model: input,
      ...(placement ? { gpuInstanceType: placement.instanceTypes[0] } : {}),
      hfToken: hfToken === false ? undefined : pulumi.secret("hf_offline_test_token"),
      ...rest,
    });
  });
  return Object.assign(r, { timeouts, component: component! });
}

export type RenderedModel = Rendered & {
  /** customTimeouts per resource name, as registered with the engine. */
  readonly timeouts: ReadonlyMap<string, { create: string; update: string }>;
  readonly component: ModelService;
};

/** Records each registration's customTimeouts (the mock monitor of the current offline runtime). */
function recordTimeouts(into: Map<string, { create: string; update: string }>): void {
  const settings = require("@pulumi/pulumi/runtime/settings") as {
    getMonitor(): { registerResource(req: any, cb: unknown): unknown };
  };
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: unknown) => {
    const t = req.getCustomtimeouts?.();
    if (t) into.set(req.getName(), { create: t.getCreate(), update: t.getUpdate() });
    return register(req, cb);
  };
}

/** The one object of a kind in a render (fails when there is not exactly one). */
export function one<T = any>(r: Rendered, kind: string): T {
  const all = r.objects<T>(kind);
  if (all.length !== 1) throw new Error(`expected one ${kind}, got ${all.length}`);
  return all[0]!;
}

/** The pod spec of the model's workload, whether a Deployment or a KServe predictor. */
export function podSpecOf(r: Rendered): any {
  const d = r.objects("Deployment");
  if (d.length) return d[0]!.spec.template.spec;
  const isvc = one(r, "InferenceService");
  const { model, ...rest } = isvc.spec.predictor;
  return { ...rest, containers: [{ name: "engine", ...model }, ...(rest.containers ?? [])] };
}

export const engineContainer = (r: Rendered) => podSpecOf(r).containers.find((c: any) => c.name === "engine");
