import { z } from "zod";
import { kserveDialect } from "../dialects/kserve";
import { CHARTS, IMAGES } from "../../versions";
import type { ModelConfig } from "../../config/serving";
import type {
  AdapterProblem,
  EngineAdapter,
  EngineMetrics,
  EnginePrerequisite,
  EngineWorkload,
  ModelContext,
} from "./types";
import { CACHE_MOUNT_PATH, QUIET_ENV, contextLengthOf, httpGet, tagOf } from "./common";
import { histogramMean, histogramP99, histogramQuantile, inFlightFromDuration, sumGauge, sumRate } from "./promql";

/** KServe release, pinned (components/versions.ts): the huggingfaceserver image `v<version>` (+ `-gpu`) and charts. */
export const KSERVE_DEFAULT_VERSION = IMAGES.kserveHuggingfaceServer.tag;
const PORT = 8080;

/**
 * `engineOptions` of a KServe model. `backend`: the huggingfaceserver's inference backend; the vLLM backend needs
 * a GPU, and is the only one with rerank and with the model's own pooling (the Hugging Face backend mean-pools).
 */
const KServeOptions = z.strictObject({
  backend: z.enum(["huggingface", "vllm"]).optional(),
});
type KServeOptions = z.infer<typeof KServeOptions>;

/** The backend a model runs on: the configured one, else vLLM on a GPU and Hugging Face on CPU. */
function kserveBackend(ctx: ModelContext): "huggingface" | "vllm" {
  return backendOf(ctx.model, ctx.gpu !== undefined);
}
function backendOf(model: ModelConfig, onGpu: boolean): "huggingface" | "vllm" {
  const parsed = KServeOptions.safeParse(model.engineOptions);
  return (parsed.success ? parsed.data.backend : undefined) ?? (onGpu ? "vllm" : "huggingface");
}

/**
 * KServe metrics. With the vLLM backend the server exports vLLM's own series (kserve #3983, maintainers' answer
 * 2024-10); the KServe model server adds `request_predict_seconds` (histogram, label `model_name`) for the V1/V2
 * predict routes only (docs "Prometheus metrics", read 2026-11). Each query takes vLLM's series when present
 * (`or`), else the KServe histogram, so one declaration covers both backends. The Hugging Face backend has no
 * queue gauge: in-flight comes from the predict histogram by Little's law.
 */
const metrics: EngineMetrics = {
  path: "/metrics",
  port: PORT,
  modelLabel: "model_name",
  metricNames: [
    "vllm:num_requests_waiting",
    "vllm:num_requests_running",
    "vllm:e2e_request_latency_seconds_bucket",
    "vllm:e2e_request_latency_seconds_sum",
    "vllm:e2e_request_latency_seconds_count",
    "vllm:request_success_total",
    "request_predict_seconds_bucket",
    "request_predict_seconds_sum",
    "request_predict_seconds_count",
  ],
  queueDepth: (s) => sumGauge("vllm:num_requests_waiting", s),
  inFlight: (s) =>
    `(${sumGauge("vllm:num_requests_running", s)} or ${inFlightFromDuration("request_predict_seconds", s)})`,
  latencyP99: (s, w) =>
    `(${histogramP99("vllm:e2e_request_latency_seconds", s, w)} or ${histogramP99("request_predict_seconds", s, w)})`,
  requestRate: (s, w) =>
    `(${sumRate("vllm:request_success_total", s, w)} or ${sumRate("request_predict_seconds_count", s, w)})`,
  latencyMean: (s, w) =>
    `((${histogramMean("vllm:e2e_request_latency_seconds", s, w)}) or (${histogramMean("request_predict_seconds", s, w)}))`,
  // KServe's model server counts no failed requests: no errorRatio.
  latencyQuantile: (q, s, w) =>
    `(${histogramQuantile(q, "vllm:e2e_request_latency_seconds", s, w)} or ${histogramQuantile(q, "request_predict_seconds", s, w)})`,
};

function validate(ctx: ModelContext): AdapterProblem[] {
  const out: AdapterProblem[] = [];
  const parsed = KServeOptions.safeParse(ctx.model.engineOptions);
  if (!parsed.success) {
    out.push({
      field: "engineOptions",
      message: `KServe accepts only { backend: "huggingface" | "vllm" } here (${parsed.error.issues.map((i) => i.message).join("; ")}). Fix: remove other keys.`,
    });
    return out;
  }
  const backend = kserveBackend(ctx);
  if (backend === "vllm" && !ctx.gpu)
    out.push({
      field: "engineOptions.backend",
      message: `KServe's vLLM backend runs only in the GPU image. Fix: set gpu.nodeGroup, or engineOptions.backend: huggingface.`,
    });
  if (ctx.model.task === "rerank" && backend !== "vllm")
    out.push({
      field: "engineOptions.backend",
      message: `KServe's Hugging Face backend has no rerank endpoint (only the vLLM backend serves /openai/v1/rerank). Fix: set engineOptions.backend: vllm with a GPU, or engine: tei.`,
    });
  if (ctx.spec.decoderReranker)
    out.push({
      field: "engine",
      message: `${ctx.model.model} needs vLLM's hf_overrides and chat template, which KServe's runtime does not pass. Fix: set engine: vllm.`,
    });
  if (ctx.model.task === "embed" && backend === "huggingface" && ctx.spec.pooling !== "mean")
    out.push({
      field: "engineOptions.backend",
      message: `KServe's Hugging Face backend always mean-pools, but ${ctx.model.model} uses ${ctx.spec.pooling} pooling: its vectors would not be the model's. Fix: set engineOptions.backend: vllm (GPU), or engine: tei.`,
    });
  return out;
}

function workload(ctx: ModelContext): EngineWorkload {
  const { model } = ctx;
  const backend = kserveBackend(ctx);
  const common = [
    `--model_name=${model.name}`,
    `--model_id=${model.model}`,
    `--backend=${backend}`,
    `--http_port=${PORT}`,
  ];
  const revision = model.revision ? [`--model_revision=${model.revision}`] : [];
  // HF backend: BertModel-style encoders are not auto-detected as embedders, the task must be given (docs/engines.md).
  const backendArgs =
    backend === "huggingface"
      ? [
          ...(model.task === "embed" ? ["--task=text_embedding"] : []),
          `--max_length=${contextLengthOf(ctx)}`,
          ...(model.dtype === "auto" ? [] : [`--dtype=${model.dtype}`]),
        ]
      : // vLLM backend: huggingfaceserver adds vLLM's own CLI parser and never defines --task there (it does only
        // for the Hugging Face backend), so vLLM's pooling runner is chosen the way vLLM reads it: --runner pooling,
        // and --convert embed for embedders (python/huggingfaceserver/huggingfaceserver/__main__.py and
        // test/e2e/predictor/test_vllm.py test_vllm_openai_text_embedding at kserve v0.20.0, read 2026-12-01; that
        // tag's image pins vLLM 0.24.0, python/huggingface_server.Dockerfile). Cross-encoders are classifiers
        // vLLM detects from the architecture: --runner pooling alone (test_vllm_rerank passes no --convert).
        [
          "--runner=pooling",
          ...(model.task === "embed" ? ["--convert=embed"] : []),
          `--max-model-len=${contextLengthOf(ctx)}`,
          `--gpu-memory-utilization=${model.gpu?.memoryFraction ?? 0.9}`,
          `--tensor-parallel-size=${model.gpu?.count ?? 1}`,
          ...(model.dtype === "auto" ? [] : [`--dtype=${model.dtype}`]),
        ];
  const name = model.name;
  return {
    kind: "InferenceService",
    image: `${IMAGES.kserveHuggingfaceServer.repository}:${tagOf(ctx, KSERVE_DEFAULT_VERSION)}${ctx.gpu ? "-gpu" : ""}`,
    args: [...common, ...revision, ...backendArgs, ...model.extraArgs],
    env: { ...QUIET_ENV, SAFETENSORS_FAST_GPU: "1" },
    hfTokenEnv: ["HF_TOKEN"],
    port: PORT,
    // V1 model readiness: 200 only once the model is loaded, 503 before (KServe V1 protocol).
    readiness: httpGet(`/v1/models/${name}`, PORT),
    // The model server's root answers {"status":"alive"} as soon as the process serves HTTP.
    liveness: httpGet("/", PORT),
    startup: httpGet(`/v1/models/${name}`, PORT),
    startupOverheadSeconds: backend === "vllm" ? 180 : 60,
    cacheMountPath: CACHE_MOUNT_PATH,
    sharedMemory: backend === "vllm",
    // huggingfaceserver images run as UID 1000 (python/huggingface_server.Dockerfile, read 2026-11).
    runAsUser: 1000,
    drainSeconds: 30,
    inferenceService: {
      modelFormat: "huggingface",
      protocolVersion: "v1",
      annotations: {
        // No Knative: a plain Deployment + Service. "Standard" is the mode's name since KServe 0.16; v0.20.0 keeps
        // "RawDeployment" only as LegacyRawDeployment, "deprecated: use Standard" (pkg/constants/constants.go at
        // tag v0.20.0, 1fb7810, read 2026-12-07).
        "serving.kserve.io/deploymentMode": "Standard",
        // KEDA (ModelService) scales the predictor Deployment; KServe must not create its own HPA.
        "serving.kserve.io/autoscalerClass": "external",
      },
      deploymentName: `${name}-predictor`,
      serviceName: `${name}-predictor`,
      servicePort: 80,
    },
  };
}

/**
 * KServe itself, installed when a stack has a KServe model (EnginePrerequisites, ../prerequisites.ts). Charts at the
 * release that matches KSERVE_DEFAULT_VERSION: KServe's own v0.20.0 install scripts (install/v0.20.0/, read 2026-12)
 * install `oci://ghcr.io/kserve/charts/kserve-crd` and `.../kserve-resources` at KSERVE_VERSION=v0.20.0, and need only
 * cert-manager (>= v1.17.0) in Standard mode. The controller chart is `kserve-resources` since v0.17 (the old
 * `.../kserve` chart stopped at v0.17.0-rc0: kserve #5272, maintainers' answer 2026-03).
 */
const KSERVE_NAMESPACE = "kserve";
const KSERVE_CRD_CHART = CHARTS.kserveCrd;
const KSERVE_CONTROLLER_CHART = CHARTS.kserveResources;
/** Our ClusterServingRuntime for the huggingface model format (see kserveRuntimeSpec). */
export const KSERVE_RUNTIME_NAME = "retrieval-stack-huggingfaceserver";

/**
 * Controller values (keys from charts/_common/kserve-resources-specific.yaml and common-sections.yaml, read 2026-11):
 * Standard mode (KServe >= 0.16's name for RawDeployment, which it still accepts and converts) so no Knative or Istio
 * is needed; no Ingress per InferenceService, since our NGINX controller is the only entry point.
 */
const KSERVE_CONTROLLER_VALUES = {
  kserve: {
    controller: {
      deploymentMode: "Standard",
      gateway: {
        disableIngressCreation: true,
        disableIstioVirtualHost: true,
        ingressGateway: { enableGatewayApi: false },
      },
    },
    // KServe's webhook adds these defaults (1 CPU, 2Gi) as requests AND limits to every predictor container that
    // lacks them (v1beta1 setResourceRequirementDefaults, read 2026-11): a model that requests 4 CPUs and sets no CPU
    // limit would get limit 1 < request 4 and be refused. Empty = no default; every ModelService sets its own.
    inferenceservice: { resources: { limits: { cpu: "", memory: "" }, requests: { cpu: "", memory: "" } } },
    localmodel: { enabled: false },
  },
} as const;

/**
 * The runtime template our InferenceServices resolve to (they name no runtime: KServe picks the enabled runtime with
 * autoSelect and the highest priority for the model format; KServe's own huggingfaceserver runtime has priority 1).
 * Ours instead of the kserve-runtime-configs chart, whose values layout changed twice since v0.16 and whose runtime
 * sets `limits.cpu: 1`: KServe merges the runtime container into the model container key by key (strategic merge,
 * pkg/utils MergeRuntimeContainers, read 2026-11), so that limit would survive under our 4-CPU request. Ours sets
 * no resources; the model container (args, image, probes, resources) replaces the rest.
 */
function kserveRuntimeSpec(): Record<string, unknown> {
  return {
    supportedModelFormats: [{ name: "huggingface", version: "1", autoSelect: true, priority: 2 }],
    protocolVersions: ["v1", "v2"],
    containers: [
      {
        name: "kserve-container",
        image: `${IMAGES.kserveHuggingfaceServer.repository}:${KSERVE_DEFAULT_VERSION}`,
        args: ["--model_name={{.Name}}"],
        securityContext: {
          allowPrivilegeEscalation: false,
          privileged: false,
          runAsNonRoot: true,
          capabilities: { drop: ["ALL"] },
        },
      },
    ],
  };
}

function prerequisites(): EnginePrerequisite[] {
  return [
    {
      type: "helm",
      id: "kserve-crd",
      description: "KServe CRDs (InferenceService, ServingRuntime, ...)",
      needsCertManager: false,
      chart: KSERVE_CRD_CHART.chart,
      version: KSERVE_CRD_CHART.version,
      namespace: KSERVE_NAMESPACE,
      values: {},
    },
    // The controller's webhook serves a cert-manager Certificate (self-signed Issuer from the chart).
    {
      type: "helm",
      id: "kserve",
      description: "KServe controller and webhooks, Standard (raw Deployment) mode",
      needsCertManager: true,
      chart: KSERVE_CONTROLLER_CHART.chart,
      version: KSERVE_CONTROLLER_CHART.version,
      namespace: KSERVE_NAMESPACE,
      values: KSERVE_CONTROLLER_VALUES,
    },
    // After the controller: its validating webhook admits ClusterServingRuntimes.
    {
      type: "object",
      id: KSERVE_RUNTIME_NAME,
      description: "huggingfaceserver runtime template without a CPU limit",
      needsCertManager: false,
      apiVersion: "serving.kserve.io/v1alpha1",
      kind: "ClusterServingRuntime",
      name: KSERVE_RUNTIME_NAME,
      spec: kserveRuntimeSpec(),
    },
  ];
}

export const kserve: EngineAdapter = {
  name: "kserve",
  displayName: "KServe (huggingfaceserver)",
  defaultVersion: KSERVE_DEFAULT_VERSION,
  validate,
  workload,
  metrics,
  dialect: kserveDialect,
  prerequisites,
  // The vLLM backend gets --gpu-memory-utilization (workload above); the Hugging Face backend allocates as it goes.
  gpuMemoryReservation: (model) =>
    model.gpu && backendOf(model, true) === "vllm"
      ? `vLLM backend, --gpu-memory-utilization ${model.gpu.memoryFraction} (weights and KV cache at start)`
      : undefined,
};
