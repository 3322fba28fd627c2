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

/**
 * Prometheus facts for one engine. `selector` is a PromQL label matcher list without braces, e.g.
 * `namespace="retrieval",model="bge"` (see ../metric-labels.ts: every engine's series carry the `model` label,
 * added by the ModelService's ServiceMonitor, whatever label the engine itself uses).
 */
export interface EngineMetrics {
  /** HTTP path and container port the engine serves metrics on. */
  readonly path: string;
  readonly port: number;
  /** Label that carries the served model name in the engine's own series (undefined: the engine has none). */
  readonly modelLabel?: string;
  /** Every metric name the queries below use, pinned to the adapter's default engine version. */
  readonly metricNames: readonly string[];
  /** Engine flags that must be present for the metrics to exist (documentation; the adapter adds them). */
  readonly requiredFlags?: readonly string[];
  /** Requests waiting for a slot, summed over replicas; undefined when the engine exports none. */
  queueDepth?(selector: string): string;
  /** Requests being processed now, summed over replicas. */
  inFlight(selector: string): string;
  /** p99 request latency in seconds over `window`. */
  latencyP99(selector: string, window: string): string;
  /** Requests per second over `window`. */
  requestRate(selector: string, window: string): string;
  /**
   * Share (0..1) of requests that failed with a server error over `window`; undefined when the engine counts no
   * failures (then no ModelServiceHighErrorRate alert exists for its models; plan.md says so).
   */
  errorRatio?(selector: string, window: string): string;
  /** Mean request latency in seconds over `window` (the histogram's _sum / _count); ModelServiceHighMeanLatency. */
  latencyMean?(selector: string, window: string): string;
  /** Latency quantile (e.g. 0.5, 0.95) in seconds over `window`; dashboards show p50/p95 when declared. */
  latencyQuantile?(quantile: number, selector: string, window: string): string;
}

/** An HTTP GET probe target inside the engine container, or a command run in it. */
export type ProbeAction =
  | { readonly httpGet: { readonly path: string; readonly port: number } }
  | { readonly exec: { readonly command: readonly string[] } };

/** A container the engine needs next to its server (e.g. Xinference's model launcher). */
interface SidecarSpec {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly readiness?: ProbeAction;
  readonly resources: { readonly cpu: string; readonly memory: string };
}

/**
 * How one model runs on one engine: everything the ModelService needs to render the pod. Pure data, no
 * Kubernetes objects: the ModelService owns the objects, the adapter owns the engine knowledge.
 */
export interface EngineWorkload {
  /** "Deployment" (ModelService renders it) or "InferenceService" (KServe renders the Deployment). */
  readonly kind: "Deployment" | "InferenceService";
  /** Pinned image, never `latest`. */
  readonly image: string;
  readonly command?: readonly string[];
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Environment variable names that receive the Hugging Face token (from a Secret). */
  readonly hfTokenEnv: readonly string[];
  /** The HTTP port clients call; the Service exposes it as "http". */
  readonly port: number;
  /** Readiness: true only when the model answers, not when the process is up. */
  readonly readiness: ProbeAction;
  /** Liveness: the process is alive (runs only after the startup probe succeeded). */
  readonly liveness: ProbeAction;
  /**
   * Liveness timing when the engine's check needs more than the default (10 s period, 5 s timeout, 6 failures):
   * e.g. a check that waits for the inference loop itself.
   */
  readonly livenessTiming?: {
    readonly periodSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
  };
  /** Startup: polled until the model is loaded, within the budget ModelService computes from model size. */
  readonly startup: ProbeAction;
  /** Engine-specific seconds added to the startup budget (compilation, CUDA graph capture, launch step). */
  readonly startupOverheadSeconds: number;
  /** Directory in the container where weights are cached (mounted from the node-local cache). */
  readonly cacheMountPath: string;
  /** Needs a large /dev/shm (PyTorch/NCCL workers share tensors through it). */
  readonly sharedMemory: boolean;
  /** Files shipped in a ConfigMap and mounted read-only at `filesMountPath` (e.g. chat templates). */
  readonly files?: Readonly<Record<string, string>>;
  readonly filesMountPath?: string;
  /** The image can run as this non-root UID; undefined when it needs root (documented per adapter). */
  readonly runAsUser?: number;
  /** Seconds the engine takes to drain in-flight requests after SIGTERM (feeds terminationGracePeriodSeconds). */
  readonly drainSeconds: number;
  readonly sidecars?: readonly SidecarSpec[];
  /** KServe only: predictor fields (model format, runtime, protocol) and annotations for the InferenceService. */
  readonly inferenceService?: {
    readonly modelFormat: string;
    readonly runtime?: string;
    readonly protocolVersion?: "v1" | "v2";
    readonly annotations: Readonly<Record<string, string>>;
    /** The Deployment KServe creates for the predictor (the autoscaler's target). */
    readonly deploymentName: string;
    /** The Service KServe creates for the predictor. */
    readonly serviceName: string;
    readonly servicePort: number;
  };
}

/**
 * Cluster-wide software an engine needs before any of its models can be created (CRDs, a controller, a runtime
 * template), installed once per stack by EnginePrerequisites (../prerequisites.ts) when a model uses the engine.
 * Two engines may declare the same `id`: it is installed once, and the declarations must be identical.
 */
interface PrerequisiteCommon {
  /** Stable id: the Pulumi resource name and, for charts, the Helm release name. */
  readonly id: string;
  /** One line for plan.md and errors: what it is and why the engine needs it. */
  readonly description: string;
  /** Needs cert-manager running first (e.g. its webhook certificates are cert-manager Certificates). */
  readonly needsCertManager: boolean;
}

/** A Helm chart, pinned to an exact version: from an HTTP(S) repository (`repo`), or an OCI chart (`chart` = "oci://..."). */
interface HelmChartPrerequisite extends PrerequisiteCommon {
  readonly type: "helm";
  readonly chart: string;
  readonly version: string;
  /** HTTP(S) chart repository; omitted for an OCI reference in `chart`. */
  readonly repo?: string;
  readonly namespace: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** One Kubernetes object (a cluster-scoped custom resource such as a runtime template). */
interface ObjectPrerequisite extends PrerequisiteCommon {
  readonly type: "object";
  readonly apiVersion: string;
  readonly kind: string;
  /** Object name (cluster-scoped unless `namespace` is set). */
  readonly name: string;
  readonly namespace?: string;
  readonly spec: Readonly<Record<string, unknown>>;
}

/** Declared in install order: each waits for the ones before it in the same list. */
export type EnginePrerequisite = HelmChartPrerequisite | ObjectPrerequisite;

export interface EngineAdapter {
  readonly name: EngineName;
  readonly displayName: string;
  /** Pinned default image tag for the engine (source and date in the adapter). */
  readonly defaultVersion: string;
  /** Engine/model/task combinations that cannot work, with the fix. Runs during config validation. */
  validate(ctx: ModelContext): AdapterProblem[];
  /** The pod of one model on this engine. Only called for contexts that passed `validate`. */
  workload(ctx: ModelContext): EngineWorkload;
  readonly metrics: EngineMetrics;
  readonly dialect: HttpDialect;
  /**
   * The engine's own request-body limit in bytes (undefined: none below the ingress's). The ingress route of the
   * model never lets a larger body through, so the client gets the ingress's 413 naming this limit.
   */
  readonly maxRequestBytes?: number;
  /** Cluster-wide prerequisites of the engine (none when undefined), in install order. */
  prerequisites?(environment: Environment): readonly EnginePrerequisite[];
  /**
   * How the engine reserves GPU memory for `model` up front (e.g. "--gpu-memory-utilization 0.9"), or undefined
   * when it allocates as it goes. A reserving engine fills the framebuffer by design and manages it itself (its
   * pressure shows as queueing and latency), so GpuMemoryPressure watches only GPUs of engines that return
   * undefined here.
   */
  gpuMemoryReservation?(model: ModelConfig): string | undefined;
  /**
   * Requests per pod the engine runs in one batch: its own cap on the sequences of a batch, as the adapter renders
   * it for `ctx` (a value in the model's extraArgs wins) or its default at the pinned version, with where that
   * default was read. Undefined when the engine derives the cap at start (from free memory) or has none we could
   * confirm. The gateway's fair admission lets this many requests in flight per ready pod and holds the rest
   * (docs/gateway.md, "Fair admission"): more would only wait inside the engine, where nothing orders or refuses them.
   */
  batchRequests?(ctx: ModelContext): BatchRequests | undefined;
}

/** An engine's per-pod batch figure and where it comes from (a flag the adapter renders, or a default's source). */
export interface BatchRequests {
  readonly value: number;
  readonly source: string;
}
