import { z } from "zod";
import { PromDuration, Severity } from "./common";
import { fixMessage } from "./errors";

export const ReceiverSchema = z.strictObject({
  name: z.string().regex(/^[a-z][-a-z0-9]*$/, {
    message: fixMessage('is not a receiver name (lowercase letters, digits and "-")', 'use e.g. "oncall-wecom"'),
  }),
  type: z.enum(["webhook", "slack", "wecom", "dingtalk"]),
  /** Key of this receiver's URL in the secret config `alertReceiverUrls` (never the URL itself). */
  urlSecretKey: z.string().min(1),
  /** Severities routed here. */
  severities: z.array(Severity).min(1).default(["critical", "warning"]),
  /** Slack channel, for type slack. */
  channel: z.string().optional(),
});
export type ReceiverConfig = z.infer<typeof ReceiverSchema>;

const Threshold = <T extends z.ZodTypeAny>(value: T, forDefault: string) =>
  z.strictObject({ value, for: PromDuration.default(forDefault) });

/** An absolute http(s) URL with nothing Prometheus' Go templates would read as an action. */
const RunbookBaseUrl = z
  .url({
    protocol: /^https?$/,
    message: fixMessage(
      "is not an absolute URL, or uses a scheme other than http(s), which alert links cannot open",
      'use an https URL, e.g. "https://github.com/acme/retrieval-stack/blob/main/docs/runbooks.md"',
    ),
  })
  .refine((u) => !u.includes("{{") && !u.includes("}}"), {
    message: fixMessage(
      'holds "{{" or "}}", which Prometheus and Alertmanager would expand as Go templates',
      "remove them",
    ),
  });

export const AlertThresholdsSchema = z.strictObject({
  /** No ready replica for this long (a pod restart or a rolling update must not page). */
  modelDownFor: PromDuration.default("5m"),
  /** 5xx / all requests. */
  errorRatio: Threshold(z.number().gt(0).lt(1), "5m").default({ value: 0.05, for: "5m" }),
  /** p99 above the model's SLO for this long. */
  latencyP99For: PromDuration.default("10m"),
  /** Waiting requests per model. */
  queueBacklog: Threshold(z.number().positive(), "10m").default({ value: 50, for: "10m" }),
  atMaxReplicasFor: PromDuration.default("15m"),
  /** Container restarts within 15 minutes. */
  podRestarts: Threshold(z.number().int().positive(), "0m").default({ value: 3, for: "0m" }),
  /**
   * Framebuffer used / total. vLLM and SGLang reserve models[].gpu.memoryFraction (default 0.9) of the GPU at start
   * by design, so the alert means "above what the engines reserve": another process or a leak. 0.95 leaves room for
   * the default reservation plus the CUDA context; a config rule keeps it above every model's memoryFraction + 0.02.
   */
  gpuMemoryRatio: Threshold(z.number().gt(0).lt(1), "10m").default({ value: 0.95, for: "10m" }),
  gpuUtilization: Threshold(z.number().gt(0).lte(1), "15m").default({ value: 0.9, for: "15m" }),
  gpuPodsPendingFor: PromDuration.default("10m"),
  metricsMissingFor: PromDuration.default("10m"),
  /** Mean request latency per model above this many ms (seed 003: 500 ms); engines with a latency histogram. */
  meanLatencyMs: Threshold(z.number().positive(), "10m").default({ value: 500, for: "10m" }),
  /**
   * Fewer requests per second than `value` while the model runs (seed 003: QPS < 10). Off by default: what is low
   * depends on the product. `utcHours` limits it to a daily window in UTC (PromQL's hour()), e.g. 8 to 20.
   */
  lowTraffic: z
    .strictObject({
      enabled: z.boolean().default(false),
      value: z.number().positive().default(10),
      for: PromDuration.default("15m"),
      utcHours: z
        .strictObject({ start: z.number().int().min(0).max(23), end: z.number().int().min(1).max(24) })
        .refine((h) => h.start < h.end, { message: "start must be before end (hours 0-24, UTC)" })
        .optional(),
    })
    .default({ enabled: false, value: 10, for: "15m" }),
  /** CPU used / CPU requested of a CPU-served model (no models[].gpu) above this share. */
  cpuSaturation: Threshold(z.number().gt(0).lte(4), "5m").default({ value: 0.85, for: "5m" }),
  /** Working-set memory / memory limit of a model container above this share (OOM risk). */
  memoryOfLimit: Threshold(z.number().gt(0).lt(1), "5m").default({ value: 0.9, for: "5m" }),
  /** The API gateway's alerts (rendered when the stack has a gateway). */
  gateway: z
    .strictObject({
      /** 5xx / all answers per API key and model. */
      errorRatio: Threshold(z.number().gt(0).lt(1), "5m").default({ value: 0.05, for: "5m" }),
      /** A model's circuit breaker open this long. */
      breakerOpenFor: PromDuration.default("2m"),
      /** Quota rejections of a key for this long (a key at its quota keeps being refused). */
      quotaExhaustedFor: PromDuration.default("10m"),
      /** Redis unreachable (limits fail open) this long. */
      redisDownFor: PromDuration.default("2m"),
    })
    .default({
      errorRatio: { value: 0.05, for: "5m" },
      breakerOpenFor: "2m",
      quotaExhaustedFor: "10m",
      redisDownFor: "2m",
    }),
});
export type AlertThresholds = z.infer<typeof AlertThresholdsSchema>;

/** The quality canary (components/canary, deployed by components/observability/quality-canary.ts). */
export const CanarySchema = z.strictObject({
  /** Deploy the canary (with its alerts and dashboard rows) where the stack wires it. */
  enabled: z.boolean().default(true),
  /** Seconds between runs over every model (seed 003: continuous quality monitoring). */
  intervalSeconds: z.number().int().min(10).default(300),
  /** Each wait is the interval ± up to this many seconds. */
  jitterSeconds: z.number().int().nonnegative().default(30),
  /** ModelQualityLow below this MRR@10 (seed 003: 0.75), unless the model has its own in `models`. */
  minMrrAt10: z.number().gt(0).lte(1).default(0.75),
  /** Per-model thresholds, by model name, e.g. { "qwen3-reranker": { minMrrAt10: 0.8 } }. */
  models: z.record(z.string(), z.strictObject({ minMrrAt10: z.number().gt(0).lte(1) })).default({}),
  /** MRR@10 below the threshold this long fires ModelQualityLow. */
  qualityLowFor: PromDuration.default("15m"),
  /** A canary check failing this long fires CanaryCheckFailing. */
  checkFailingFor: PromDuration.default("15m"),
  /**
   * Your own labelled set: a ConfigMap in the canary's namespace whose key holds JSONL, one query per line:
   * {"query": "...", "candidates": [{"id": "d1", "text": "..."}], "relevant": ["d1"]}.
   */
  userSet: z.strictObject({ configMap: z.string().min(1), key: z.string().min(1).default("queries.jsonl") }).optional(),
  /** The name of the canary's API key at the gateway: usage and quotas per key show its calls apart. */
  keyName: z.string().min(1).default("canary"),
});
export type CanaryConfig = z.infer<typeof CanarySchema>;

/** Logs next to metrics: Loki (single binary) and Grafana Alloy on every node (components/observability/logs). */
export const LogsSchema = z.strictObject({
  /** Default: on in cloud stacks, off in local (environment profile). */
  enabled: z.boolean().optional(),
  /** How long Loki keeps logs (and the S3 lifecycle rule expires them); default: observability.retention. */
  retention: PromDuration.optional(),
  /** Loki's volume (filesystem storage in local; the write-ahead log and index cache in cloud stacks). */
  storageGiB: z.number().int().positive().default(20),
});
export type LogsConfig = z.infer<typeof LogsSchema>;

export const ObservabilitySchema = z.strictObject({
  enabled: z.boolean().default(true),
  retention: PromDuration.default("15d"),
  /** Prometheus volume; 0 = emptyDir (local only). */
  storageGiB: z
    .number()
    .int()
    .nonnegative()
    .max(16384, {
      message: fixMessage("is above 16384 GiB (16 TiB), which this project takes for a typo", "use a size such as 200"),
    })
    .default(50),
  grafana: z.strictObject({ exposeViaIngress: z.boolean().default(false) }).default({ exposeViaIngress: false }),
  alerts: AlertThresholdsSchema.default(AlertThresholdsSchema.parse({})),
  receivers: z.array(ReceiverSchema).default([]),
  canary: CanarySchema.default(CanarySchema.parse({})),
  logs: LogsSchema.default(LogsSchema.parse({})),
  /**
   * Where alerts' runbook_url points: the absolute http(s) URL of docs/runbooks.md as your team browses it (e.g.
   * "https://github.com/acme/retrieval-stack/blob/main/docs/runbooks.md"); each alert appends its #anchor. Unset:
   * alerts carry no runbook_url (a relative path opens nowhere from Alertmanager or chat) and plan.md says so.
   */
  runbookBaseUrl: RunbookBaseUrl.optional(),
});
export type ObservabilityConfig = z.infer<typeof ObservabilitySchema>;
