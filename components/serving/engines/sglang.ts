import { sglangDialect } from "../dialects/sglang";
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
  intFlag,
  httpGet,
  needsGpu,
  tagOf,
} from "./common";
import { histogramP99, histogramQuantile, sumGauge, sumRate, histogramMean } from "./promql";
import { QWEN3_RERANKER_TEMPLATE_PATH, qwen3RerankerFiles } from "./qwen3-reranker-template";

/** SGLang image, pinned (components/versions.ts: where the tag was confirmed). */
const SGLANG_DEFAULT_VERSION = IMAGES.sglang.tag;
const PORT = 30000;

/**
 * SGLang metrics exist only with `--enable-metrics` (docs/references/production_metrics.md and
 * python/sglang/srt/metrics/collector.py, read 2026-11); every series carries `model_name`.
 */
const metrics: EngineMetrics = {
  path: "/metrics",
  port: PORT,
  modelLabel: "model_name",
  requiredFlags: ["--enable-metrics"],
  metricNames: [
    "sglang:num_queue_reqs",
    "sglang:num_running_reqs",
    "sglang:e2e_request_latency_seconds_bucket",
    "sglang:e2e_request_latency_seconds_sum",
    "sglang:e2e_request_latency_seconds_count",
    "sglang:num_requests_total",
    "sglang:token_usage",
  ],
  queueDepth: (s) => sumGauge("sglang:num_queue_reqs", s),
  inFlight: (s) => sumGauge("sglang:num_running_reqs", s),
  latencyP99: (s, w) => histogramP99("sglang:e2e_request_latency_seconds", s, w),
  latencyMean: (s, w) => histogramMean("sglang:e2e_request_latency_seconds", s, w),
  requestRate: (s, w) => sumRate("sglang:num_requests_total", s, w),
  // SGLang counts no failed requests (only aborts): no errorRatio.
  latencyQuantile: (q, s, w) => histogramQuantile(q, "sglang:e2e_request_latency_seconds", s, w),
};

/**
 * Buckets (seconds) of `sglang:e2e_request_latency_seconds`, the histogram our p99 alert, autoscaling dashboards and
 * the verifier's SLO read. SGLang's defaults start 0.1, 0.2, 0.4, 0.6 (TokenizerMetricsCollector in
 * python/sglang/srt/metrics/collector.py): a 300 ms p99 objective falls between two buckets 200 ms apart, so
 * histogram_quantile can only interpolate. These resolve 25-50 ms steps around the 100-800 ms objectives of
 * embedders and rerankers and keep the long tail up to SGLang's own largest default. Flag
 * `--bucket-e2e-request-latency` (type float, nargs "+"; python/sglang/srt/server_args.py, read 2026-12-01).
 * At the pinned tag (IMAGES.sglang, v0.5.10.post1) itself server_args.py could not be read (2026-12-02): the
 * sgl-project/sglang snapshot is 1.2 GB, over this workplace's 500 MB limit, and the file index holds only the newest
 * server_args.py (commit 001067f, flag derived from the ServerArgs field bucket_e2e_request_latency). The project's
 * docs bracket the tag: sgl-project/sgl-docs docs/advanced_features/server_arguments.mdx (commit 71a4a3d,
 * 2026-03-31, days before v0.5.10.post1) lists `--bucket-e2e-request-latency` as List[float], default None. A
 * release without it would crash-loop the pod at start-up (argparse rejects an unknown flag).
 */
export const SGLANG_E2E_LATENCY_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.275, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8, 1, 1.5, 2,
  3, 5, 10, 30, 60, 120, 300, 600, 2400,
] as const;

/** Encoder models (BERT, XLM-R, MiniLM): SGLang's default FlashInfer attention does not run them (docs/engines.md). */
const ENCODER_ATTENTION_BACKEND = "triton";

function validate(ctx: ModelContext): AdapterProblem[] {
  const out = [...needsGpu(ctx, "SGLang", "tei"), ...noEngineOptions(ctx, "SGLang")];
  if (ctx.spec.decoderReranker && ctx.model.extraArgs.includes("--is-embedding"))
    out.push({
      field: "extraArgs",
      message: `${ctx.model.model} is a yes/no decoder reranker: SGLang scores it through its chat template and must NOT run it with --is-embedding (the server would return embeddings, not relevance scores). Fix: remove "--is-embedding" from extraArgs.`,
    });
  return out;
}

function workload(ctx: ModelContext): EngineWorkload {
  const { model, spec } = ctx;
  const encoder = spec.kvBytesPerToken === 0;
  const taskArgs = spec.decoderReranker
    ? // Qwen3-Reranker: generation of a yes/no logit through the reranker chat template, not an embedding.
      ["--trust-remote-code", "--disable-radix-cache", "--chat-template", QWEN3_RERANKER_TEMPLATE_PATH]
    : model.task === "rerank"
      ? // Cross-encoders run as "embedding" models whose single output is the relevance score.
        [
          "--is-embedding",
          "--disable-radix-cache",
          "--chunked-prefill-size",
          "-1",
          "--attention-backend",
          ENCODER_ATTENTION_BACKEND,
        ]
      : ["--is-embedding", ...(encoder ? ["--attention-backend", ENCODER_ATTENTION_BACKEND] : [])];
  const args = [
    "-m",
    "sglang.launch_server",
    ...flags({
      "--model-path": model.model,
      "--served-model-name": model.name,
      "--host": "0.0.0.0",
      "--port": PORT,
      "--context-length": contextLengthOf(ctx),
      "--mem-fraction-static": model.gpu?.memoryFraction,
      "--dtype": model.dtype,
      "--tp-size": model.gpu?.count ?? 1,
      "--revision": model.revision,
    }),
    "--enable-metrics",
    "--bucket-e2e-request-latency",
    ...SGLANG_E2E_LATENCY_BUCKETS.map(String),
    ...taskArgs,
    ...model.extraArgs,
  ];
  return {
    kind: "Deployment",
    image: `${IMAGES.sglang.repository}:${tagOf(ctx, SGLANG_DEFAULT_VERSION)}`,
    command: ["python3"],
    args,
    env: { ...QUIET_ENV, SGLANG_DISABLE_REQUEST_LOGGING: "1", SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION: "true" },
    hfTokenEnv: ["HF_TOKEN"],
    port: PORT,
    // /health answers 503 while loading and otherwise runs a one-token request through the model (docs/engines.md).
    readiness: httpGet("/health", PORT),
    // /v1/models is answered by the HTTP process alone and stays 200 while the scheduler is wedged. /health (same
    // handler as /health_generate) sends a one-token request through the scheduler and answers 200 as soon as
    // anything comes back from it (under load at once, so it needs no free slot), 503 after
    // SGLANG_HEALTH_CHECK_TIMEOUT (20 s) without an answer, and 503 while starting or shutting down
    // (python/sglang/srt/entrypoints/http_server.py health_generate; environ.py
    // SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION, default true, set above so /health never degrades to a process
    // check). Read 2026-12-07 in the sgl-project/sglang file index (commit 0025436 and the newest copies): the
    // pinned tag itself could not be fetched (the repository is over this workplace's size limit). Re-read the same
    // day: at 0025436 `@app.get("/health")` and `@app.get("/health_generate")` decorate one handler, and that copy
    // has no SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION branch at all (/health always runs the one-token request),
    // so with the variable set to true both kinds of release behave alike. No copy of http_server.py readable here
    // is tied to v0.5.10.post1 by a tag or a date.
    liveness: httpGet("/health", PORT),
    // Longer than SGLang's own 20 s check, and 5 failures 30 s apart: only a loop wedged for minutes is restarted,
    // never one long batch.
    livenessTiming: { periodSeconds: 30, timeoutSeconds: 25, failureThreshold: 5 },
    startup: httpGet("/health", PORT),
    startupOverheadSeconds: encoder ? 90 : 240,
    cacheMountPath: CACHE_MOUNT_PATH,
    sharedMemory: true,
    ...qwen3RerankerFiles(spec),
    // The image runs as root (caches under /root, JIT kernels): no non-root UID is supported upstream.
    runAsUser: undefined,
    drainSeconds: 30,
  };
}

/**
 * SGLang's cap on running requests, `--max-running-requests`, only when the model's extraArgs set it: its default is
 * None, and the scheduler derives the cap at start from the KV cache pool that the free GPU memory allows
 * (python/sglang/srt/server_args.py ServerArgs.max_running_requests, sgl-project/sglang at 001067f, read 2026-12-07),
 * so no fixed figure can be planned; the gateway then uses the model's autoscaling.inFlightPerReplica.
 */
function batchRequests(ctx: ModelContext): BatchRequests | undefined {
  const set = intFlag(ctx.model.extraArgs, "--max-running-requests");
  return set ? { value: set, source: "--max-running-requests in extraArgs" } : undefined;
}

export const sglang: EngineAdapter = {
  name: "sglang",
  displayName: "SGLang",
  defaultVersion: SGLANG_DEFAULT_VERSION,
  validate,
  workload,
  metrics,
  dialect: sglangDialect,
  // --mem-fraction-static: the share of the GPU SGLang takes at start for weights and its KV cache pool.
  gpuMemoryReservation: (model) =>
    model.gpu ? `--mem-fraction-static ${model.gpu.memoryFraction} (weights and KV cache pool at start)` : undefined,
  batchRequests,
};
