import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../config/common";
import type { ModelConfig } from "../config/serving";
import { modelProblems, type ArgumentProblem, type GpuPlacement, type ModelInput } from "./context";

// What reports argument problems as Pulumi errors: kept apart from context.ts, which the gateway and verifier
// bundles import and which must not load @pulumi.

/**
 * Pulumi's error for invalid component arguments (the engine prints each property path with its reason); the
 * message repeats them, for callers that only print `message`.
 */
export function argumentsError(component: string, problems: readonly ArgumentProblem[]): pulumi.InputPropertiesError {
  const n = problems.length;
  return new pulumi.InputPropertiesError({
    message: `${component}: ${n} invalid argument${n === 1 ? "" : "s"}: ${problems.map((p) => `${p.propertyPath}: ${p.reason}`).join("; ")}`,
    errors: [...problems],
  });
}

/**
 * Parses one model as a user writes it (defaults applied) and checks it against the catalogue, the GPU it gets
 * and its engine, without a whole platform config. Throws Pulumi's InputPropertyError/InputPropertiesError
 * naming each property path (e.g. "model.replicas.min").
 */
export function parseModelConfig(
  input: ModelInput,
  options: { readonly environment: Environment } & GpuPlacement,
): ModelConfig {
  const { ctx, problems } = modelProblems(input, options.environment, options);
  if (!ctx) throw argumentsError("parseModelConfig", problems);
  return ctx.model;
}
