import type { z } from "zod";
import type { Environment } from "../config/common";
import { ModelConfigSchema, type ModelConfig } from "../config/serving";
import { gpuInstanceOf, lookupInstanceType, type GpuInstanceType } from "../cluster/instances";
import { lookupModel, type ModelSpec } from "./models";
import { adapterFor } from "./engines";
import type { ModelContext } from "./engines/types";

/** A model as a user writes it (defaults not applied yet): the zod input type of ModelConfigSchema. */
export type ModelInput = z.input<typeof ModelConfigSchema>;

/** Where a GPU model runs: an instance type name from the GPU catalogue, or a node group that lists them. */
export interface GpuPlacement {
  /**
   * EC2 instance type of the model's GPU nodes, e.g. "g6.xlarge" (components/cluster/instances.ts): sizes CPU and
   * memory requests and the GPU class. Required when `model.gpu` is set (or `gpuNodeGroup`); wins over `gpuNodeGroup`.
   * @default none (a CPU model)
   */
  readonly gpuInstanceType?: string;
  /**
   * Alternatively the node group named by model.gpu.nodeGroup (`{ instanceTypes: [...] }`): its first instance type is used.
   * @default none
   */
  readonly gpuNodeGroup?: { readonly instanceTypes: readonly string[] };
}

/** One problem with a component's arguments: the property path (e.g. "model.replicas.min") and what to do. */
export interface ArgumentProblem {
  readonly propertyPath: string;
  readonly reason: string;
}

export { gpuInstanceOf };

/** The context length a model is served with: the configured one, else the model's maximum. */
export function servedContextLength(model: Pick<ModelConfig, "maxModelLen">, spec: ModelSpec): number {
  return model.maxModelLen ?? spec.maxTokens;
}

/** The catalogue entry or the model's own spec (the latter wins, so users can correct the catalogue). */
export function specOf(model: Pick<ModelConfig, "spec" | "model">): ModelSpec | undefined {
  return model.spec ?? lookupModel(model.model);
}

/** The vector size a model answers with: its Matryoshka `dimensions`, else the spec's dims. */
export function servedDims(model: Pick<ModelConfig, "spec" | "model" | "dimensions">): number | undefined {
  return model.dimensions ?? specOf(model)?.dims;
}

/** The adapter's view of a model whose spec and GPU are known: the one constructor of a ModelContext. */
export function contextOf(
  model: ModelConfig,
  spec: ModelSpec,
  environment: Environment,
  instance: GpuInstanceType | undefined,
): ModelContext {
  return { model, spec, environment, gpu: model.gpu && instance ? { instance, count: model.gpu.count } : undefined };
}

/**
 * The ModelContext of a parsed model, or the argument problems that prevent one (unknown model, GPU placement
 * without a known instance type). Adapter checks are not included: see `modelProblems`.
 */
export function resolveContext(
  model: ModelConfig,
  environment: Environment,
  placement: GpuPlacement = {},
): { ctx: ModelContext; problems: [] } | { ctx: undefined; problems: ArgumentProblem[] } {
  const spec = specOf(model);
  const problems: ArgumentProblem[] = [];
  if (!spec)
    problems.push({
      propertyPath: "model.model",
      reason: `${model.model} is not in the model catalogue (components/serving/models.ts). Fix: pass model.spec with task, dims, maxTokens, parametersB and architecture, or use a catalogued model.`,
    });
  const typeName = placement.gpuInstanceType ?? placement.gpuNodeGroup?.instanceTypes[0];
  const instance = placement.gpuInstanceType
    ? lookupInstanceType(placement.gpuInstanceType)
    : gpuInstanceOf(placement.gpuNodeGroup);
  if (model.gpu && !instance)
    problems.push({
      propertyPath: placement.gpuNodeGroup && !placement.gpuInstanceType ? "gpuNodeGroup" : "gpuInstanceType",
      reason:
        typeName === undefined
          ? `model.gpu places the model on GPU node group "${model.gpu.nodeGroup}", but no GPU instance type was given. Fix: pass gpuInstanceType (e.g. "g6.xlarge"), or remove model.gpu to run on CPU.`
          : `"${typeName}" is not a GPU instance type of the catalogue. Fix: use one of components/cluster/instances.ts (e.g. "g6.xlarge", "g6e.xlarge").`,
    });
  if (!spec || problems.length) return { ctx: undefined, problems };
  return { ctx: contextOf(model, spec, environment, instance), problems: [] };
}

/** zod issues of a model as argument problems under `model.` (path and zod's message). */
function schemaProblems(input: unknown): { model?: ModelConfig; problems: ArgumentProblem[] } {
  const parsed = ModelConfigSchema.safeParse(input);
  if (parsed.success) return { model: parsed.data, problems: [] };
  return {
    problems: parsed.error.issues.map((i) => ({
      propertyPath: ["model", ...i.path.map(String)].join("."),
      reason: `${i.message}.`,
    })),
  };
}

/** Everything wrong with one model for a library caller: schema, catalogue, GPU placement and the engine's checks. */
export function modelProblems(
  input: ModelInput | ModelConfig,
  environment: Environment,
  placement: GpuPlacement = {},
): { ctx?: ModelContext; problems: ArgumentProblem[] } {
  const { model, problems } = schemaProblems(input);
  if (!model) return { problems };
  const resolved = resolveContext(model, environment, placement);
  if (!resolved.ctx) return { problems: resolved.problems };
  const adapterProblems = adapterFor(model.engine)
    .validate(resolved.ctx)
    .map((p) => ({ propertyPath: `model.${p.field}`, reason: p.message }));
  return adapterProblems.length ? { problems: adapterProblems } : { ctx: resolved.ctx, problems: [] };
}
