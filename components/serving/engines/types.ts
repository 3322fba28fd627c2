import type { EngineName, Environment } from "../../config/common";
import type { ModelConfig } from "../../config/serving";
import type { ModelSpec } from "../models";
import type { GpuInstanceType } from "../../cluster/instances";
import type { HttpDialect } from "../dialects/types";

/** Everything an adapter may look at to plan one model. */
export interface ModelContext {
  readonly model: ModelConfig;
  /** Catalogue entry or the model's own `spec`. */
  readonly spec: ModelSpec;
  readonly environment: Environment;
  /** The GPU the model runs on; undefined for CPU deployments. */
  readonly gpu?: { readonly instance: GpuInstanceType; readonly count: number };
}

/** A config problem found by an adapter; `field` is relative to the model entry, e.g. "engine". */
export interface AdapterProblem {
  readonly field: string;
  readonly message: string;
}

/** Prometheus facts for one engine; `selector` is a PromQL label matcher list such as `model_name="bge"`. */
export interface EngineMetrics {
  /** HTTP path and container port the engine serves metrics on. */
  readonly path: string;
  readonly port: number;
  /** Label that carries the served model name in the engine's own series (undefined: use the pod's labels). */
  readonly modelLabel?: string;
  /** Every metric name the queries below use, pinned to the adapter's default engine version. */
  readonly metricNames: readonly string[];
  /** Requests waiting for a slot, summed over replicas; undefined when the engine exports none. */
  queueDepth?(selector: string): string;
  /** Requests being processed now, summed over replicas. */
  inFlight(selector: string): string;
  /** p99 request latency in seconds over `window`. */
  latencyP99(selector: string, window: string): string;
  /** Requests per second over `window`. */
  requestRate(selector: string, window: string): string;
}

export interface EngineAdapter {
  readonly name: EngineName;
  readonly displayName: string;
  /** Engine/model/task combinations that cannot work, with the fix. Runs during config validation. */
  validate(ctx: ModelContext): AdapterProblem[];
  readonly metrics: EngineMetrics;
  readonly dialect: HttpDialect;
}
