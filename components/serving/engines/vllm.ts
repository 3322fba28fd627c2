import { vllmDialect } from "../dialects/vllm";
import { IMAGES } from "../../versions";
import type {
  AdapterProblem,
  BatchRequests,
  EngineAdapter,
  EngineMetrics,
  EngineWorkload,
  ModelContext,
} from "./types";
import {
  noEngineOptions,
  CACHE_MOUNT_PATH,
  QUIET_ENV,
  contextLengthOf,
  flags,
  httpGet,
  intFlag,
  needsGpu,
  tagOf,
} from "./common";
import { histogramP99, histogramQuantile, sumGauge, sumRate, histogramMean } from "./promql";
import { QWEN3_RERANKER_TEMPLATE_PATH, qwen3RerankerFiles } from "./qwen3-reranker-template";

/** vLLM image, pinned (components/versions.ts: where the tag was confirmed). */
const VLLM_DEFAULT_VERSION = IMAGES.vllm.tag;
const PORT = 8000;

/**
 * vLLM metrics (docs/design/metrics.md and vllm/v1/metrics/loggers.py, read 2026-11). Gauges carry `model_name`.
 * `vllm:gpu_cache_usage_perc` was renamed `vllm:kv_cache_usage_perc` (vllm #18354): we use neither in queries.
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
    "vllm:kv_cache_usage_perc",
    "http_requests_total",
  ],
  queueDepth: (s) => sumGauge("vllm:num_requests_waiting", s),
  inFlight: (s) => sumGauge("vllm:num_requests_running", s),
  latencyP99: (s, w) => histogramP99("vllm:e2e_request_latency_seconds", s, w),
  latencyMean: (s, w) => histogramMean("vllm:e2e_request_latency_seconds", s, w),
  requestRate: (s, w) => sumRate("vllm:request_success_total", s, w),
  // The API server's HTTP middleware (prometheus-fastapi-instrumentator) counts responses by status class
  // ("2xx", "5xx"); probes and scrapes are left out of both sides.
  errorRatio: (s, w) =>
    `${sumRate("http_requests_total", `${s},handler!~"/metrics|/health",status="5xx"`, w)} / ${sumRate("http_requests_total", `${s},handler!~"/metrics|/health"`, w)}`,
  latencyQuantile: (q, s, w) => histogramQuantile(q, "vllm:e2e_request_latency_seconds", s, w),
};

/**
 * Qwen3-Reranker is a causal LM scoring "yes" vs "no"; vLLM turns it into a sequence classifier with these
 * overrides (vLLM examples/offline_inference/qwen3_reranker.py and docs/models/pooling_models.md, read 2026-11).
 */
export const QWEN3_RERANKER_HF_OVERRIDES = {
  architectures: ["Qwen3ForSequenceClassification"],
  classifier_from_token: ["no", "yes"],
  is_original_qwen3_reranker: true,
} as const;

function validate(ctx: ModelContext): AdapterProblem[] {
  return [...needsGpu(ctx, "vLLM", "tei"), ...noEngineOptions(ctx, "vLLM")];
}

function workload(ctx: ModelContext): EngineWorkload {
  const { model, spec } = ctx;
  const args = [
    model.model,
    "--runner",
    "pooling",
    ...flags({
      "--served-model-name": model.name,
      "--host": "0.0.0.0",
      "--port": PORT,
      "--max-model-len": contextLengthOf(ctx),
      "--gpu-memory-utilization": model.gpu?.memoryFraction,
      "--dtype": model.dtype,
      "--tensor-parallel-size": model.gpu?.count ?? 1,
      "--revision": model.revision,
    }),
    ...(spec.decoderReranker
      ? ["--hf-overrides", JSON.stringify(QWEN3_RERANKER_HF_OVERRIDES), "--chat-template", QWEN3_RERANKER_TEMPLATE_PATH]
      : []),
    ...model.extraArgs,
  ];
  return {
    kind: "Deployment",
    image: `${IMAGES.vllm.repository}:${tagOf(ctx, VLLM_DEFAULT_VERSION)}`,
    command: ["vllm", "serve"],
    args,
    env: { ...QUIET_ENV, VLLM_NO_USAGE_STATS: "1" },
    hfTokenEnv: ["HF_TOKEN"],
    port: PORT,
    // The API server binds only after the weights are loaded and warmed up, and /health turns 503 when the
    // engine core dies: a 200 means the model answers (vLLM docs "health checks", read 2026-11).
    readiness: httpGet("/health", PORT),
    liveness: httpGet("/health", PORT),
    startup: httpGet("/health", PORT),
    // torch.compile + CUDA graph capture on first start (cached on the volume afterwards).
    startupOverheadSeconds: spec.decoderReranker || spec.kvBytesPerToken > 0 ? 240 : 120,
    cacheMountPath: CACHE_MOUNT_PATH,
    sharedMemory: true,
    ...qwen3RerankerFiles(spec),
    // The image runs as root and writes caches under /root (torch, triton): no non-root UID is supported upstream.
    runAsUser: undefined,
    drainSeconds: 30,
  };
}

/**
 * `vllm serve`'s cap on the sequences of one batch, `--max-num-seqs`, when the model's extraArgs do not set it: for
 * the API server (UsageContext.OPENAI_API_SERVER) 256 on GPUs below 70 GiB and on A100s, 1024 on larger GPUs (H100),
 * 128 x (pipeline x tensor parallel) on CPU, and never above max_num_batched_tokens, which for a pooling model
 * without chunked prefill is max_model_len (vllm/engine/arg_utils.py EngineArgs._set_default_args, vllm-project/vllm
 * at 99d7eb5, the newest source stored here, read 2026-12-07; the pinned v0.27.1's own source cannot be fetched here,
 * so a change of these defaults after that commit would not be seen).
 */
const VLLM_MAX_NUM_SEQS_DEFAULT = { gpu: 256, largeGpu: 1024, largeGpuMinGiB: 70, cpu: 128 } as const;

function batchRequests(ctx: ModelContext): BatchRequests {
  const set = intFlag(ctx.model.extraArgs, "--max-num-seqs");
  if (set) return { value: set, source: "--max-num-seqs in extraArgs" };
  const d = VLLM_MAX_NUM_SEQS_DEFAULT;
  const gpu = ctx.gpu?.instance;
  const value = !gpu ? d.cpu : gpu.gpuMemoryGiB >= d.largeGpuMinGiB && gpu.gpuClass !== "a100" ? d.largeGpu : d.gpu;
  return {
    value: Math.min(value, contextLengthOf(ctx)),
    source: `vLLM's --max-num-seqs default for the API server on ${gpu ? `${gpu.gpuMemoryGiB} GiB ${gpu.gpuClass}` : "CPU"}`,
  };
}

export const vllm: EngineAdapter = {
  name: "vllm",
  displayName: "vLLM",
  defaultVersion: VLLM_DEFAULT_VERSION,
  validate,
  workload,
  metrics,
  dialect: vllmDialect,
  // --gpu-memory-utilization: the share of the GPU vLLM takes at start for weights, activations and its KV cache.
  gpuMemoryReservation: (model) =>
    model.gpu ? `--gpu-memory-utilization ${model.gpu.memoryFraction} (weights and KV cache at start)` : undefined,
  batchRequests,
};
