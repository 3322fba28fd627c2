import { z } from "zod";
import { xinferenceDialect } from "../dialects/xinference";
import { IMAGES } from "../../versions";
import type { AdapterProblem, EngineAdapter, EngineMetrics, EngineWorkload, ModelContext } from "./types";
import { CACHE_MOUNT_PATH, FILES_MOUNT_PATH, HF_HOME, QUIET_ENV, httpGet, tagOf } from "./common";
import { histogramP99, histogramQuantile, ratioOfRates, sumGauge, sumRate, histogramMean } from "./promql";

/** Xinference image, pinned (components/versions.ts); GPU `v<version>`, CPU `v<version>-cpu`. */
const XINFERENCE_DEFAULT_VERSION = IMAGES.xinference.tag;
const PORT = 9997;
/** The worker's metrics exporter (`--metrics-exporter-port`, docs "Metrics", read 2026-11). */
const METRICS_PORT = 9998;
const XINFERENCE_LAUNCHER_FILE = "launch-model.py";

/**
 * Worker metrics (xinference/core/metrics.py and doc "Monitoring Metrics", read 2026-11), label `model_uid`.
 * Xinference exports no queue-depth metric; `xinference:model_serve_count` is the requests being served.
 */
const metrics: EngineMetrics = {
  path: "/metrics",
  port: METRICS_PORT,
  modelLabel: "model_uid",
  metricNames: [
    "xinference:model_serve_count",
    "xinference:model_request_duration_seconds_bucket",
    "xinference:model_request_duration_seconds_sum",
    "xinference:model_request_duration_seconds_count",
    "xinference:model_request_total",
    "xinference:model_request_errors_total",
  ],
  queueDepth: undefined,
  inFlight: (s) => sumGauge("xinference:model_serve_count", s),
  latencyP99: (s, w) => histogramP99("xinference:model_request_duration_seconds", s, w),
  latencyMean: (s, w) => histogramMean("xinference:model_request_duration_seconds", s, w),
  requestRate: (s, w) => sumRate("xinference:model_request_total", s, w),
  errorRatio: (s, w) => ratioOfRates("xinference:model_request_errors_total", "xinference:model_request_total", s, w),
  latencyQuantile: (q, s, w) => histogramQuantile(q, "xinference:model_request_duration_seconds", s, w),
};

/**
 * `engineOptions` of an Xinference model: `modelName` is the model's name in Xinference's registry (default: the
 * Hugging Face repo name, e.g. "bge-reranker-base"); `modelEngine` its engine for LLM-based models.
 */
const XinferenceOptions = z.strictObject({
  modelName: z.string().min(1).optional(),
  modelEngine: z.string().min(1).optional(),
});

function registryName(ctx: ModelContext): string {
  const parsed = XinferenceOptions.safeParse(ctx.model.engineOptions);
  return (parsed.success ? parsed.data.modelName : undefined) ?? ctx.model.model.split("/")[1]!;
}

function validate(ctx: ModelContext): AdapterProblem[] {
  const parsed = XinferenceOptions.safeParse(ctx.model.engineOptions);
  if (!parsed.success)
    return [
      {
        field: "engineOptions",
        message: `Xinference accepts only { modelName, modelEngine } here (${parsed.error.issues.map((i) => i.message).join("; ")}). Fix: remove other keys.`,
      },
    ];
  return [];
}

/**
 * The launch step, run by a sidecar: waits for the server, registers the model under a fixed UID unless it is
 * already listed (idempotent: a restarted sidecar or server never launches it twice), then keeps checking and
 * relaunches it if the server lost it. Standard library only (the image's Python). The launch request body
 * (POST /v1/models: model_uid, model_name, model_type, replica, n_gpu) comes from the environment.
 */
export const LAUNCH_PAYLOAD_ENV = "XINFERENCE_LAUNCH_PAYLOAD";
export function launcherScript(port = PORT): string {
  return `import json, os, sys, time, urllib.error, urllib.request
BASE = "http://127.0.0.1:${port}"
PAYLOAD = json.loads(os.environ["${LAUNCH_PAYLOAD_ENV}"])
UID = PAYLOAD["model_uid"]

def listed():
    try:
        with urllib.request.urlopen(f"{BASE}/v1/models/{UID}", timeout=10) as r:
            return r.status == 200
    except urllib.error.HTTPError:
        return False

def launch():
    req = urllib.request.Request(f"{BASE}/v1/models", data=json.dumps(PAYLOAD).encode(), headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=3600) as r:
        print(f"launched {UID}: HTTP {r.status}", flush=True)

while True:
    try:
        if not listed():
            launch()
    except (urllib.error.URLError, OSError) as e:
        print(f"server not ready or launch failed ({e}); retrying", file=sys.stderr, flush=True)
    time.sleep(15)
`;
}

function workload(ctx: ModelContext): EngineWorkload {
  const { model } = ctx;
  const parsed = XinferenceOptions.safeParse(model.engineOptions);
  const image = `${IMAGES.xinference.repository}:${tagOf(ctx, XINFERENCE_DEFAULT_VERSION)}${ctx.gpu ? "" : "-cpu"}`;
  const payload: Record<string, unknown> = {
    model_uid: model.name,
    model_name: registryName(ctx),
    model_type: model.task === "embed" ? "embedding" : "rerank",
    replica: 1,
    n_gpu: ctx.gpu ? "auto" : null,
    ...(parsed.success && parsed.data.modelEngine ? { model_engine: parsed.data.modelEngine } : {}),
  };
  // The model is ready only when the server lists its UID, not when the server answers (docs/engines.md).
  const modelListed = httpGet(`/v1/models/${model.name}`, PORT);
  return {
    kind: "Deployment",
    image,
    command: ["xinference-local"],
    args: [
      "--host",
      "0.0.0.0",
      "--port",
      String(PORT),
      "--metrics-exporter-host",
      "0.0.0.0",
      "--metrics-exporter-port",
      String(METRICS_PORT),
      ...model.extraArgs,
    ],
    env: {
      ...QUIET_ENV,
      XINFERENCE_HOME: `${CACHE_MOUNT_PATH}/xinference`,
      XINFERENCE_MODEL_SRC: "huggingface",
      HF_HOME,
    },
    hfTokenEnv: ["HF_TOKEN"],
    port: PORT,
    readiness: modelListed,
    liveness: httpGet("/v1/models", PORT),
    startup: modelListed,
    startupOverheadSeconds: 180,
    cacheMountPath: CACHE_MOUNT_PATH,
    sharedMemory: true,
    files: { [XINFERENCE_LAUNCHER_FILE]: launcherScript() },
    filesMountPath: FILES_MOUNT_PATH,
    // The image runs as root and installs engine packages at first launch: no non-root UID upstream.
    runAsUser: undefined,
    drainSeconds: 30,
    sidecars: [
      {
        name: "launch-model",
        image,
        command: ["python3", `${FILES_MOUNT_PATH}/${XINFERENCE_LAUNCHER_FILE}`],
        env: { [LAUNCH_PAYLOAD_ENV]: JSON.stringify(payload) },
        resources: { cpu: "50m", memory: "128Mi" },
      },
    ],
  };
}

export const xinference: EngineAdapter = {
  name: "xinference",
  displayName: "Xinference",
  defaultVersion: XINFERENCE_DEFAULT_VERSION,
  validate,
  workload,
  metrics,
  dialect: xinferenceDialect,
  // An LLM engine under Xinference (engineOptions.modelEngine vllm or sglang) reserves its KV cache at start with
  // that engine's own default share; embedding and rerank models on sentence-transformers allocate as they go.
  gpuMemoryReservation: (model) => {
    const parsed = XinferenceOptions.safeParse(model.engineOptions);
    const engine = parsed.success ? parsed.data.modelEngine?.toLowerCase() : undefined;
    return model.gpu && (engine === "vllm" || engine === "sglang")
      ? `modelEngine ${engine} (reserves its KV cache at start)`
      : undefined;
  },
};
