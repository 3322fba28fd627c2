import type { ModelContext, ProbeAction } from "./types";

/** Where every engine keeps its weights: the node-local cache volume is mounted here (see model-service.ts). */
export const CACHE_MOUNT_PATH = "/cache";
/** HF_HOME inside the cache: transformers/huggingface_hub write `hub/models--org--name` under it. */
export const HF_HOME = `${CACHE_MOUNT_PATH}/huggingface`;
/** Where ConfigMap files (chat templates) are mounted. */
export const FILES_MOUNT_PATH = "/etc/retrieval-stack";

/** The image tag the model asks for, else the adapter's pinned default. */
export const tagOf = (ctx: ModelContext, defaultTag: string): string => ctx.model.engineVersion ?? defaultTag;

/** The context length the engine allocates for. */
export const contextLengthOf = (ctx: ModelContext): number => ctx.model.maxModelLen ?? ctx.spec.maxTokens;

export const httpGet = (path: string, port: number): ProbeAction => ({ httpGet: { path, port } });

/** `--flag value` pairs, skipping undefined values. */
export function flags(pairs: Record<string, string | number | undefined>): string[] {
  return Object.entries(pairs).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
}

/**
 * The value of `flag` in rendered arguments (`--flag value` or `--flag=value`; the last one wins, as argparse and
 * clap take it), as a positive integer; undefined when absent or not one.
 */
export function intFlag(args: readonly string[], flag: string): number | undefined {
  let out: number | undefined;
  args.forEach((a, i) => {
    const v = a === flag ? args[i + 1] : a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : undefined;
    if (v !== undefined && /^\d+$/.test(v) && Number(v) > 0) out = Number(v);
  });
  return out;
}

/** Environment that keeps engines from phoning home (usage statistics) and puts every cache on the volume. */
export const QUIET_ENV: Readonly<Record<string, string>> = {
  HF_HOME,
  HF_HUB_DISABLE_TELEMETRY: "1",
  DO_NOT_TRACK: "1",
};

/** A problem for engines that have no CPU build we can run. */
export const needsGpu = (ctx: ModelContext, engine: string, cpuAlternative: string) =>
  ctx.gpu
    ? []
    : [
        {
          field: "gpu",
          message: `${engine} needs a GPU (its images are CUDA builds), but this model has no "gpu" placement. Fix: set gpu.nodeGroup, or use engine: ${cpuAlternative} on CPU.`,
        },
      ];

/** For engines that take no `engineOptions`: a key there is a typo or meant for another engine. */
export const noEngineOptions = (ctx: ModelContext, engine: string) => {
  const keys = Object.keys(ctx.model.engineOptions);
  return keys.length
    ? [
        {
          field: "engineOptions",
          message: `${engine} takes no engineOptions (got ${keys.map((k) => `"${k}"`).join(", ")}). Fix: remove them; engine flags go in extraArgs.`,
        },
      ]
    : [];
};
