import { teiDialect } from "../dialects/tei";
import { IMAGES } from "../../versions";
import type { GpuInstanceType } from "../../cluster/instances";
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
  HF_HOME,
  QUIET_ENV,
  contextLengthOf,
  flags,
  httpGet,
  intFlag,
  tagOf,
} from "./common";
import {
  histogramP99,
  histogramQuantile,
  inFlightFromDuration,
  ratioOfRates,
  sumGauge,
  sumRate,
  histogramMean,
} from "./promql";

/** TEI image, pinned to an exact release (components/versions.ts); the GPU class adds a prefix (below). */
const TEI_DEFAULT_VERSION = IMAGES.tei.tag;
const PORT = 8080;
const METRICS_PORT = 9000;

/**
 * Image tag prefix per GPU class: TEI ships one build per CUDA compute capability (.github/workflows/matrix.json at v1.9.3):
 * Ampere A10/A10G/A40 = sm86 "86-", Ada L4/L40S = sm89 "89-", A100 = sm80 (no prefix), Hopper H100 "hopper-".
 * The CPU build ("cpu-") serves the local stack.
 */
const TEI_TAG_PREFIX: Readonly<Record<GpuInstanceType["gpuClass"] | "cpu", string>> = {
  a10g: "86-",
  l4: "89-",
  l40s: "89-",
  a100: "",
  h100: "hopper-",
  cpu: "cpu-",
};

/** TEI's own defaults (router/src/main.rs, read 2026-11), set explicitly so that the plan shows them. */
const TEI_MAX_BATCH_TOKENS = 16384;
const TEI_MAX_CLIENT_BATCH_SIZE = 32;
const TEI_MAX_CONCURRENT_REQUESTS = 512;
/** TEI's `--payload-limit` default, 2 MB (router/src/main.rs `default_value = "2000000"`, v1.9.0 and v1.9.3, read 2026-12-01). */
const TEI_PAYLOAD_LIMIT_BYTES = 2_000_000;

/**
 * TEI metrics (router/src/http/server.rs, core/src/queue.rs, router/src/prometheus.rs, read 2026-11), served on
 * the separate `--prometheus-port`. TEI has no model label and no in-flight gauge: in-flight work is derived
 * from the inference-time histogram by Little's law (rate of summed inference seconds = requests on the backend).
 */
const metrics: EngineMetrics = {
  path: "/metrics",
  port: METRICS_PORT,
  modelLabel: undefined,
  metricNames: [
    "te_queue_size",
    "te_request_inference_duration_sum",
    "te_request_duration_bucket",
    "te_request_duration_sum",
    "te_request_duration_count",
    "te_request_count",
    "te_request_failure",
  ],
  queueDepth: (s) => sumGauge("te_queue_size", s),
  inFlight: (s) => inFlightFromDuration("te_request_inference_duration", s),
  latencyP99: (s, w) => histogramP99("te_request_duration", s, w),
  latencyMean: (s, w) => histogramMean("te_request_duration", s, w),
  requestRate: (s, w) => sumRate("te_request_count", s, w),
  // te_request_failure{err} counts every failed request (tokenization, overloaded, inference, ...).
  errorRatio: (s, w) => ratioOfRates("te_request_failure", "te_request_count", s, w),
  latencyQuantile: (q, s, w) => histogramQuantile(q, "te_request_duration", s, w),
};

function validate(ctx: ModelContext): AdapterProblem[] {
  const out: AdapterProblem[] = [...noEngineOptions(ctx, "TEI")];
  if (ctx.spec.decoderReranker)
    out.push({
      field: "engine",
      message: `TEI cannot serve ${ctx.model.model}: it is a decoder LLM scored on its "yes"/"no" logits, and TEI has no Qwen3 classifier. Fix: set engine: vllm (with the hf_overrides this project adds) or engine: sglang.`,
    });
  if (ctx.model.dtype === "bfloat16")
    out.push({
      field: "dtype",
      message: `TEI accepts float16 or float32 only. Fix: set dtype: float16 (GPU) or remove it.`,
    });
  if (ctx.model.dtype === "float16" && !ctx.gpu)
    out.push({ field: "dtype", message: `TEI's CPU build runs float32 only. Fix: remove dtype or set it to float32.` });
  if ((ctx.gpu?.count ?? 1) > 1)
    out.push({
      field: "gpu.count",
      message: `TEI runs one model on one GPU (no tensor parallelism). Fix: set gpu.count: 1 and scale with replicas.`,
    });
  return out;
}

function workload(ctx: ModelContext): EngineWorkload {
  const { model } = ctx;
  const prefix = TEI_TAG_PREFIX[ctx.gpu?.instance.gpuClass ?? "cpu"];
  const dtype = model.dtype === "auto" ? undefined : model.dtype;
  return {
    kind: "Deployment",
    image: `${IMAGES.tei.repository}:${prefix}${tagOf(ctx, TEI_DEFAULT_VERSION)}`,
    args: [
      ...flags({
        "--model-id": model.model,
        "--revision": model.revision,
        "--served-model-name": model.name,
        "--hostname": "0.0.0.0",
        "--port": PORT,
        "--prometheus-port": METRICS_PORT,
        "--max-batch-tokens": TEI_MAX_BATCH_TOKENS,
        "--max-client-batch-size": TEI_MAX_CLIENT_BATCH_SIZE,
        "--max-concurrent-requests": TEI_MAX_CONCURRENT_REQUESTS,
        "--dtype": dtype,
      }),
      ...model.extraArgs,
    ],
    // TEI reads the hub cache location from HUGGINGFACE_HUB_CACHE (default /data): share the layout of HF_HOME.
    env: { ...QUIET_ENV, HUGGINGFACE_HUB_CACHE: `${HF_HOME}/hub` },
    hfTokenEnv: ["HF_TOKEN"],
    port: PORT,
    // The HTTP server starts only after warm-up, and /health runs a check through the backend (503 when not).
    readiness: httpGet("/health", PORT),
    liveness: httpGet("/info", PORT),
    startup: httpGet("/health", PORT),
    startupOverheadSeconds: 30,
    cacheMountPath: CACHE_MOUNT_PATH,
    sharedMemory: false,
    // The router is a static binary that writes only to the hub cache: it runs as any UID.
    runAsUser: 1000,
    drainSeconds: 15,
  };
}

/**
 * What one TEI batch holds: its queue cuts a batch at `--max-batch-requests` entries when set (else at
 * `--max-concurrent-requests`) or when the next entry's tokens would pass `--max-batch-tokens`
 * (core/src/queue.rs queue_blocking_task, huggingface/text-embeddings-inference v1.9.3 0667015, read 2026-12-07).
 * So: --max-batch-requests when the model's extraArgs set it, else the inputs of the model's full length that fit
 * the token budget we render (16384 / max tokens: 32 for 512-token models), within --max-concurrent-requests.
 */
function batchRequests(ctx: ModelContext): BatchRequests {
  const args = ctx.model.extraArgs;
  const cap = intFlag(args, "--max-concurrent-requests") ?? TEI_MAX_CONCURRENT_REQUESTS;
  const set = intFlag(args, "--max-batch-requests");
  if (set) return { value: Math.min(set, cap), source: "--max-batch-requests in extraArgs" };
  const tokens = intFlag(args, "--max-batch-tokens") ?? TEI_MAX_BATCH_TOKENS;
  const length = contextLengthOf(ctx);
  return {
    value: Math.max(1, Math.min(cap, Math.floor(tokens / length))),
    source: `--max-batch-tokens ${tokens} / ${length} tokens per input`,
  };
}

export const tei: EngineAdapter = {
  name: "tei",
  displayName: "Hugging Face TEI",
  defaultVersion: TEI_DEFAULT_VERSION,
  validate,
  workload,
  metrics,
  dialect: teiDialect,
  maxRequestBytes: TEI_PAYLOAD_LIMIT_BYTES,
  batchRequests,
};
