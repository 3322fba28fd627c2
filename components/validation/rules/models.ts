import type { ModelSpec } from "../../serving/models";
import { adapterFor } from "../../serving/engines";
import { contextOf, gpuInstanceOf, specOf } from "../../serving/context";
import { estimateGpuMemory } from "../../serving/sizing";
import { CRON_FIX, cronProblem, timezoneProblem } from "../../serving/schedule";
import { profileOf } from "../../config/environments";
import type { ModelConfig } from "../../config/serving";
import type { PlatformConfig } from "../../config/schema";
import type { Rule, RuleProblem } from "./types";

export { specOf };

/** The context length a model is served with: the configured one, else the model's maximum. */
export function servedContextLength(model: ModelConfig, spec: ModelSpec): number {
  return model.maxModelLen ?? spec.maxTokens;
}

export const modelRules: Rule = (config) => {
  const out: RuleProblem[] = [];
  const models = config.models;
  if (!models) return out;
  const seen = new Map<string, number>();
  models.forEach((m, i) => {
    const at = (...p: PropertyKey[]) => ["models", i, ...p];
    const prev = seen.get(m.name);
    if (prev !== undefined)
      out.push({
        path: at("name"),
        value: m.name,
        message: `is already used by models[${prev}]. Fix: give every model a unique name (it becomes its Service name and route).`,
      });
    seen.set(m.name, i);

    if (m.replicas.min > m.replicas.max)
      out.push({
        path: at("replicas", "min"),
        value: m.replicas.min,
        message: `is above replicas.max (${m.replicas.max}). Fix: set min <= max.`,
      });
    const floor = config.environment ? profileOf(config.environment).minReplicasFloor : 0;
    if (config.environment && m.replicas.min < floor)
      out.push({
        path: at("replicas", "min"),
        value: m.replicas.min,
        message: `${config.environment} needs at least ${floor} replicas per model so that one pod or zone can fail. Fix: set replicas.min to ${floor} or more.`,
      });
    out.push(...scaleToZeroProblems(config, m, i, floor));

    const spec = specOf(m);
    if (!spec) {
      out.push({
        path: at("model"),
        value: m.model,
        message: `is not in the model catalogue (components/serving/models.ts). Fix: add a "spec" with task, dims, maxTokens, parametersB and architecture, or use a catalogued model.`,
      });
      return;
    }
    if (spec.task !== m.task)
      out.push({
        path: at("task"),
        value: m.task,
        message: `${m.model} is a ${spec.task} model. Fix: set task: ${spec.task}, or pick a ${m.task} model.`,
      });
    if (m.dimensions !== undefined) {
      if (m.task !== "embed" || !spec.matryoshka)
        out.push({
          path: at("dimensions"),
          value: m.dimensions,
          message: `${m.model} does not support Matryoshka output sizes (engines answer 400). Fix: remove "dimensions", or use a Matryoshka model such as Qwen/Qwen3-Embedding-0.6B.`,
        });
      else if (spec.dims !== undefined && m.dimensions > spec.dims)
        out.push({
          path: at("dimensions"),
          value: m.dimensions,
          message: `is larger than ${m.model}'s ${spec.dims} dimensions. Fix: use a value <= ${spec.dims}.`,
        });
    }
    if (m.maxModelLen !== undefined && m.maxModelLen > spec.maxTokens)
      out.push({
        path: at("maxModelLen"),
        value: m.maxModelLen,
        message: `exceeds ${m.model}'s maximum of ${spec.maxTokens} tokens. Fix: set maxModelLen <= ${spec.maxTokens} or remove it.`,
      });

    out.push(...gpuFitProblems(config, m, spec, i));

    if (config.environment) {
      const instance = gpuInstanceOf(m.gpu ? config.gpuNodeGroups?.[m.gpu.nodeGroup] : undefined);
      // A GPU placement whose node group or instance type is unknown is reported above; the adapter would
      // only add a misleading "needs a GPU" on top.
      if (m.gpu && !instance) return;
      const ctx = contextOf(m, spec, config.environment, instance);
      for (const p of adapterFor(m.engine).validate(ctx))
        out.push({ path: at(...p.field.split(".")), value: valueOf(m, p.field), message: p.message });
    }
  });
  return out;
};

/** Example schedule in the fixes: 08:00-20:00 Monday to Friday, China Standard Time. */
const ACTIVE_HOURS_EXAMPLE = '{ timezone: "Asia/Shanghai", start: "0 8 * * 1-5", end: "0 20 * * 1-5" }';

/**
 * Scale to zero (replicas.min 0) needs something that brings the model back: with no pod the engine exports no
 * metric, so the queue and in-flight triggers cannot. The config's signal is a working-hours schedule
 * (autoscaling.activeHours, a KEDA cron trigger); scaling needs KEDA, which the stack installs with observability.
 */
function scaleToZeroProblems(config: Partial<PlatformConfig>, m: ModelConfig, i: number, floor: number): RuleProblem[] {
  const at = (...p: PropertyKey[]) => ["models", i, ...p];
  const hours = m.autoscaling.activeHours;
  const out: RuleProblem[] = [];
  // Where the environment's floor refuses 0 already (staging/prod), a second, contradicting fix would only confuse.
  const zero = m.replicas.min === 0 && floor === 0;
  if (zero && !hours)
    out.push({
      path: at("replicas", "min"),
      value: 0,
      message: `lets the model scale to zero, but nothing would bring it back: with no pod the engine exports no metric for the autoscaler to see. Fix: set autoscaling.activeHours (e.g. ${ACTIVE_HOURS_EXAMPLE}: one replica during those hours, zero outside them), or set replicas.min: 1.`,
    });
  if (zero && config.observability && !config.observability.enabled)
    out.push({
      path: at("replicas", "min"),
      value: 0,
      message: `scaling to zero needs KEDA, which this stack installs only with observability (KEDA reads Prometheus); with observability.enabled false the model keeps one replica. Fix: set replicas.min: 1, or enable observability.`,
    });
  if (!hours) return out;
  if (m.replicas.min > 0)
    out.push({
      path: at("autoscaling", "activeHours"),
      value: hours,
      message: `has no effect: replicas.min is ${m.replicas.min}, so the model never runs fewer replicas outside these hours. Fix: remove autoscaling.activeHours${floor === 0 ? ", or set replicas.min: 0 to scale to zero outside them" : ` (${config.environment} keeps at least ${floor} replicas)`}.`,
    });
  const tz = timezoneProblem(hours.timezone);
  if (tz) out.push({ path: at("autoscaling", "activeHours", "timezone"), value: hours.timezone, message: tz });
  for (const key of ["start", "end"] as const) {
    const problem = cronProblem(hours[key]);
    if (problem)
      out.push({
        path: at("autoscaling", "activeHours", key),
        value: hours[key],
        message: `is not a cron expression KEDA's cron scaler accepts (${problem}). ${CRON_FIX}`,
      });
  }
  if (hours.start.trim().split(/\s+/).join(" ") === hours.end.trim().split(/\s+/).join(" "))
    out.push({
      path: at("autoscaling", "activeHours", "end"),
      value: hours.end,
      message: `is the same as start, so the window never opens (KEDA refuses it). Fix: set end to when the window closes, e.g. "0 20 * * 1-5".`,
    });
  return out;
}

function gpuFitProblems(config: Partial<PlatformConfig>, m: ModelConfig, spec: ModelSpec, i: number): RuleProblem[] {
  if (!m.gpu) return [];
  const groups = config.gpuNodeGroups;
  if (!groups) return [];
  const at = (...p: PropertyKey[]) => ["models", i, "gpu", ...p];
  const group = groups[m.gpu.nodeGroup];
  if (!group) {
    const names = Object.keys(groups);
    return [
      {
        path: at("nodeGroup"),
        value: m.gpu.nodeGroup,
        message: names.length
          ? `is not a GPU node group of this stack. Fix: use one of ${names.map((n) => `"${n}"`).join(", ")}, or add it under gpuNodeGroups.`
          : `names a GPU node group, but this stack declares none. Fix: add it under gpuNodeGroups, or remove "gpu" to run on CPU.`,
      },
    ];
  }
  const instance = gpuInstanceOf(group);
  if (!instance) return []; // reported by the node-group rules
  const out: RuleProblem[] = [];
  if (m.gpu.count > instance.gpus)
    out.push({
      path: at("count"),
      value: m.gpu.count,
      message: `node group "${m.gpu.nodeGroup}" (${group.instanceTypes[0]}) has ${instance.gpus} GPU(s) per node. Fix: ask for <= ${instance.gpus}, or use a larger instance type.`,
    });
  const ctxLen = servedContextLength(m, spec);
  const need = estimateGpuMemory(spec, ctxLen);
  const have =
    Math.round(instance.gpuMemoryGiB * Math.min(m.gpu.count, instance.gpus) * m.gpu.memoryFraction * 10) / 10;
  if (need.totalGiB > have) {
    out.push({
      path: ["models", i, "maxModelLen"],
      value: m.maxModelLen ?? `(model maximum ${spec.maxTokens})`,
      message: `${m.model} at ${ctxLen} tokens needs ~${need.totalGiB} GiB of GPU memory (weights ${need.weightsGiB} + KV cache ${need.kvCacheGiB}), but ${m.gpu.count} x ${instance.gpuModel} at memoryFraction ${m.gpu.memoryFraction} gives ${have} GiB. Fix: set a smaller maxModelLen (e.g. 8192), more GPUs, or a node group with larger GPUs (g6e: 48 GiB).`,
    });
  }
  return out;
}

function valueOf(m: ModelConfig, field: string): unknown {
  let v: unknown = m;
  for (const k of field.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}
