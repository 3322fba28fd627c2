import { adapterFor } from "../../serving/engines";
import { contextOf, gpuInstanceOf, servedContextLength, specOf } from "../../serving/context";
import { MODEL_CATALOGUE, type ModelSpec } from "../../serving/models";
import type { ModelContext } from "../../serving/engines/types";
import { GPU_INSTANCE_TYPES, type GpuInstanceType } from "../../cluster/instances";
import { estimateGpuMemory } from "../../serving/sizing";
import { CRON_FIX, cronNeverFires, cronProblem, timezoneProblem } from "../../contracts/cron";
import { scaleToZeroGap } from "../../serving/autoscaling";
import { profileOf } from "../../config/environments";
import { problem } from "../../config/errors";
import type { ModelConfig } from "../../config/serving";
import type { PlatformConfig } from "../../config/schema";
import { closest } from "../../config/suggest";
import type { Rule, RuleProblem } from "./types";

export { specOf, servedContextLength };

type Config = Partial<PlatformConfig>;
type At = (...p: PropertyKey[]) => PropertyKey[];

export const modelRules: Rule = (config) => {
  const models = config.models;
  if (!models) return [];
  const out: RuleProblem[] = [];
  const seen = new Map<string, number>();
  models.forEach((m, i) => {
    const at: At = (...p) => ["models", i, ...p];
    const prev = seen.get(m.name);
    if (prev !== undefined)
      out.push(
        problem(
          at("name"),
          m.name,
          `is already used by models[${prev}]`,
          "give every model a unique name (it becomes its Service name and route)",
        ),
      );
    seen.set(m.name, i);
    out.push(...replicaProblems(config, m, at));
    const spec = specOf(m);
    if (!spec) {
      out.push(catalogueProblem(m, at));
      return;
    }
    out.push(...specProblems(m, spec, at), ...gpuFitProblems(config, m, spec, at));
    out.push(...adapterProblems(config, m, spec, at));
  });
  return out;
};

function replicaProblems(config: Config, m: ModelConfig, at: At): RuleProblem[] {
  const { min, max } = m.replicas;
  // The root cause first, alone: every other replica rule reads a range that does not exist.
  if (min > max) return [problem(at("replicas", "min"), min, `is above replicas.max (${max})`, "set min <= max")];
  const floor = config.environment ? profileOf(config.environment).minReplicasFloor : 0;
  const out: RuleProblem[] = [];
  if (config.environment && min < floor)
    out.push(
      problem(
        at("replicas", "min"),
        min,
        `${config.environment} needs at least ${floor} replicas per model so that one pod or zone can fail`,
        `set replicas.min to ${floor} or more`,
      ),
    );
  return [...out, ...scaleToZeroProblems(config, m, at, floor)];
}

function catalogueProblem(m: ModelConfig, at: At): RuleProblem {
  const near = closest(m.model, Object.keys(MODEL_CATALOGUE));
  const fix = near
    ? `did you mean "${near}"? Write it exactly so, or add a "spec" for a model outside the catalogue`
    : 'add a "spec" with task, dims, maxTokens, parametersB and architecture, or use a model of docs/models.md';
  return problem(at("model"), m.model, "is not in the model catalogue (components/serving/models.ts)", fix);
}

function specProblems(m: ModelConfig, spec: ModelSpec, at: At): RuleProblem[] {
  const out: RuleProblem[] = [];
  if (spec.task !== m.task)
    out.push(
      problem(
        at("task"),
        m.task,
        `${m.model} is a ${spec.task} model`,
        `set task: ${spec.task}, or pick a ${m.task} model`,
      ),
    );
  if (m.dimensions !== undefined) {
    if (m.task !== "embed" || !spec.matryoshka)
      out.push(
        problem(
          at("dimensions"),
          m.dimensions,
          `${m.model} does not support Matryoshka output sizes (engines answer 400)`,
          'remove "dimensions", or use a Matryoshka model such as Qwen/Qwen3-Embedding-0.6B',
        ),
      );
    else if (spec.dims !== undefined && m.dimensions > spec.dims)
      out.push(
        problem(
          at("dimensions"),
          m.dimensions,
          `is larger than ${m.model}'s ${spec.dims} dimensions`,
          `use a value <= ${spec.dims}`,
        ),
      );
  }
  if (m.maxModelLen !== undefined && m.maxModelLen > spec.maxTokens)
    out.push(
      problem(
        at("maxModelLen"),
        m.maxModelLen,
        `exceeds ${m.model}'s maximum of ${spec.maxTokens} tokens`,
        `set maxModelLen <= ${spec.maxTokens} or remove it`,
      ),
    );
  return out;
}

/** The GPU a model is placed on, when its node group and instance type are known. */
function gpuOf(config: Config, m: ModelConfig): GpuInstanceType | undefined {
  return gpuInstanceOf(m.gpu ? config.gpuNodeGroups?.[m.gpu.nodeGroup] : undefined);
}

/** Engine/model combinations the engine's adapter refuses, and extraArgs that repeat a flag the adapter sets. */
function adapterProblems(config: Config, m: ModelConfig, spec: ModelSpec, at: At): RuleProblem[] {
  if (!config.environment) return [];
  const instance = gpuOf(config, m);
  // A GPU placement whose node group or instance type is unknown is reported elsewhere; the adapter would only
  // add a misleading "needs a GPU" on top.
  if (m.gpu && !instance) return [];
  const ctx = contextOf(m, spec, config.environment, instance);
  const adapter = adapterFor(m.engine);
  const found = adapter
    .validate(ctx)
    .map((p) => ({ path: at(...p.field.split(".")), value: valueOf(m, p.field), message: p.message }));
  return found.length ? found : ownedFlagProblems(ctx, at);
}

/**
 * Flags the adapter sets itself (--port, --host, --served-model-name, ...): asked from the adapter's own plan of
 * the pod without extraArgs. Repeating one in extraArgs either breaks the probes and the Service or is ignored.
 */
function ownedFlagProblems(ctx: ModelContext, at: At): RuleProblem[] {
  const m = ctx.model;
  if (m.extraArgs.length === 0) return [];
  let planned;
  try {
    planned = adapterFor(m.engine).workload({ ...ctx, model: { ...m, extraArgs: [] } });
  } catch {
    return []; // an adapter that cannot plan this model says why in validate()
  }
  const owned = new Set([...(planned.command ?? []), ...planned.args].filter((a) => a.startsWith("--")).map(flagName));
  return m.extraArgs.flatMap((arg, i) =>
    arg.startsWith("--") && owned.has(flagName(arg))
      ? [
          problem(
            at("extraArgs", i),
            arg,
            `repeats ${flagName(arg)}, which the ${m.engine} adapter sets itself ` +
              "(probes, Service and routes depend on it)",
            "remove it from extraArgs; the adapter derives its value from the model's config",
          ),
        ]
      : [],
  );
}

const flagName = (arg: string) => arg.split("=")[0]!;

/** Example schedule in the fixes: 08:00-20:00 Monday to Friday, China Standard Time. */
const ACTIVE_HOURS_EXAMPLE = '{ timezone: "Asia/Shanghai", start: "0 8 * * 1-5", end: "0 20 * * 1-5" }';

/**
 * Scale to zero (replicas.min 0) needs something that brings the model back: with no pod the engine exports no
 * metric, so the queue and in-flight triggers cannot. The config's signal is a working-hours schedule
 * (autoscaling.activeHours, a KEDA cron trigger); scaling needs KEDA, which the stack installs with observability.
 */
function scaleToZeroProblems(config: Config, m: ModelConfig, at: At, floor: number): RuleProblem[] {
  const hours = m.autoscaling.activeHours;
  const out: RuleProblem[] = [];
  // Where the environment's floor refuses 0 already (staging/prod), a second, contradicting fix would only confuse.
  const gaps = floor === 0 ? scaleToZeroGap(m, { keda: config.observability?.enabled ?? true }) : [];
  if (gaps.includes("nothing-wakes"))
    out.push(
      problem(
        at("replicas", "min"),
        0,
        "lets the model scale to zero, but nothing would bring it back: with no pod the engine exports no metric",
        `set autoscaling.activeHours (e.g. ${ACTIVE_HOURS_EXAMPLE}: one replica during those hours, ` +
          "zero outside them), or set replicas.min: 1",
      ),
    );
  if (gaps.includes("no-keda"))
    out.push(
      problem(
        at("replicas", "min"),
        0,
        "scaling to zero needs KEDA, which this stack installs only with observability (KEDA reads Prometheus)",
        "set replicas.min: 1, or enable observability",
      ),
    );
  if (!hours) return out;
  if (m.replicas.min > 0)
    out.push(
      problem(
        at("autoscaling", "activeHours"),
        hours,
        `has no effect: replicas.min is ${m.replicas.min}, so the model never runs fewer replicas outside these hours`,
        "remove autoscaling.activeHours" +
          (floor === 0
            ? ", or set replicas.min: 0 to scale to zero outside them"
            : ` (${config.environment} keeps at least ${floor} replicas)`),
      ),
    );
  const tz = timezoneProblem(hours.timezone);
  if (tz) out.push({ path: at("autoscaling", "activeHours", "timezone"), value: hours.timezone, message: tz });
  return [...out, ...cronProblems(hours, at)];
}

function cronProblems(hours: NonNullable<ModelConfig["autoscaling"]["activeHours"]>, at: At): RuleProblem[] {
  const out: RuleProblem[] = [];
  for (const key of ["start", "end"] as const) {
    const where = at("autoscaling", "activeHours", key);
    const bad = cronProblem(hours[key]);
    const never = bad ? undefined : cronNeverFires(hours[key]);
    if (bad)
      out.push({
        path: where,
        value: hours[key],
        message: `is not a cron expression KEDA's cron scaler accepts (${bad}). ${CRON_FIX}`,
      });
    else if (never)
      out.push(problem(where, hours[key], `can never fire: ${never}`, 'pick a day that exists, e.g. "0 8 * * 1-5"'));
  }
  if (hours.start.trim().split(/\s+/).join(" ") === hours.end.trim().split(/\s+/).join(" "))
    out.push(
      problem(
        at("autoscaling", "activeHours", "end"),
        hours.end,
        "is the same as start, so the window never opens (KEDA refuses it)",
        'set end to when the window closes, e.g. "0 20 * * 1-5"',
      ),
    );
  return out;
}

function gpuFitProblems(config: Config, m: ModelConfig, spec: ModelSpec, at: At): RuleProblem[] {
  if (!m.gpu) return [];
  const groups = config.gpuNodeGroups;
  if (!groups) return [];
  const group = groups[m.gpu.nodeGroup];
  if (!group) {
    const names = Object.keys(groups);
    const near = closest(m.gpu.nodeGroup, names);
    return [
      names.length
        ? problem(
            at("gpu", "nodeGroup"),
            m.gpu.nodeGroup,
            "is not a GPU node group of this stack",
            `${near ? `did you mean "${near}"? ` : ""}use one of ${names.map((n) => `"${n}"`).join(", ")}, ` +
              "or add it under gpuNodeGroups",
          )
        : problem(
            at("gpu", "nodeGroup"),
            m.gpu.nodeGroup,
            "names a GPU node group, but this stack declares none",
            'add it under gpuNodeGroups, or remove "gpu" to run on CPU',
          ),
    ];
  }
  const instance = gpuInstanceOf(group);
  if (!instance) return []; // reported by the node-group rules
  const out: RuleProblem[] = [];
  const count = m.gpu.count;
  // A time-sliced group refuses count > 1 for its own reason (rules/cluster.ts).
  if (count > instance.gpus && group.sharing.timeSlicingReplicas === undefined)
    out.push(
      problem(
        at("gpu", "count"),
        count,
        `node group "${m.gpu.nodeGroup}" (${group.instanceTypes[0]}) has ${instance.gpus} GPU(s) per node`,
        `ask for <= ${instance.gpus}, or use a larger instance type`,
      ),
    );
  const ctxLen = servedContextLength(m, spec);
  const need = estimateGpuMemory(spec, ctxLen);
  const fraction = m.gpu.memoryFraction;
  const have = Math.round(instance.gpuMemoryGiB * Math.min(count, instance.gpus) * fraction * 10) / 10;
  if (need.totalGiB <= have) return out;
  const fixes = [
    ...(ctxLen > 8192 ? ["set a smaller maxModelLen (e.g. 8192)"] : ["set a smaller maxModelLen"]),
    ...(fraction < 0.9 ? [`raise gpu.memoryFraction (now ${fraction}) to 0.9`] : []),
    ...(count < instance.gpus ? [`more GPUs (gpu.count up to ${instance.gpus})`] : []),
    ...largerGpu(instance, need.totalGiB, fraction, count),
  ];
  out.push(
    problem(
      at("maxModelLen"),
      m.maxModelLen ?? `(model maximum ${spec.maxTokens})`,
      `${m.model} at ${ctxLen} tokens needs ~${need.totalGiB} GiB of GPU memory ` +
        `(weights ${need.weightsGiB} + KV cache ${need.kvCacheGiB}), ` +
        `but ${count} x ${instance.gpuModel} at memoryFraction ${fraction} gives ${have} GiB`,
      fixes.join(", or "),
    ),
  );
  return out;
}

/** The cheapest instance type with more memory per GPU than the one in use that fits the model (catalogue). */
function largerGpu(current: GpuInstanceType, needGiB: number, fraction: number, count: number): string[] {
  const fits = Object.entries(GPU_INSTANCE_TYPES)
    .filter(([, t]) => t.gpuMemoryGiB > current.gpuMemoryGiB && t.gpus >= count)
    .filter(([, t]) => t.gpuMemoryGiB * count * Math.max(fraction, 0.9) >= needGiB)
    .sort(([, a], [, b]) => a.onDemandUsdPerHour - b.onDemandUsdPerHour);
  const best = fits[0];
  if (!best) return [];
  return [`a node group with larger GPUs (e.g. ${best[0]}: ${best[1].gpuModel}, ${best[1].gpuMemoryGiB} GiB)`];
}

function valueOf(m: ModelConfig, field: string): unknown {
  let v: unknown = m;
  for (const k of field.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}
