import { z } from "zod";
import { AlertFor, DnsLabel, Retention, Severity } from "./common";
import { fixMessage } from "./errors";
import { bounded, ObjectName, safeUrl } from "./formats";

export const ReceiverSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][-a-z0-9]*$/, {
      message: fixMessage('is not a receiver name (lowercase letters, digits and "-")', 'use e.g. "oncall-wecom"'),
    })
    .meta({ description: 'Alertmanager receiver name, e.g. "oncall-wecom".' }),
  type: z
    .enum(["webhook", "slack", "wecom", "dingtalk"])
    .meta({ description: "Where the notifications go: a generic webhook, Slack, WeCom or DingTalk." }),
  urlSecretKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, {
      message: fixMessage(
        "is not a key `pulumi config set --path 'alertReceiverUrls.<key>'` can write (a dot, space or control character would split or break the path)",
        'use letters, digits, "_" and "-", e.g. "oncall-slack"',
      ),
    })
    .meta({
      description: "Key of this receiver's URL in the secret config `alertReceiverUrls` (never the URL itself).",
    }),
  severities: z
    .array(Severity)
    .min(1)
    .default(["critical", "warning"])
    .meta({ description: "Severities routed here." }),
  channel: z
    .string()
    .regex(/^[#@]?[a-z0-9][a-z0-9._-]{0,79}$/, {
      message: fixMessage(
        "is not a Slack channel name (lowercase letters, digits, '-', '_', '.', at most 80; no spaces or newlines)",
        'write e.g. "#ml-oncall"',
      ),
    })
    .optional()
    .meta({ description: "Slack channel, for type slack." }),
});
export type ReceiverConfig = z.infer<typeof ReceiverSchema>;

const Threshold = <T extends z.ZodTypeAny>(value: T, forDefault: string) =>
  z.strictObject({
    value: value.meta({ description: "The threshold the alert compares with." }),
    for: AlertFor.default(forDefault).meta({ description: "How long the condition holds before the alert fires." }),
  });

/**
 * An absolute http(s) URL with nothing Prometheus' Go templates would read as an action, rendered into every
 * alert exactly as written (no control characters a parser would drop).
 */
const RunbookBaseUrl = z
  .string()
  .refine((u) => !u.includes("{{") && !u.includes("}}"), {
    message: fixMessage(
      'holds "{{" or "}}", which Prometheus and Alertmanager would expand as Go templates',
      "remove them",
    ),
    abort: true,
  })
  .pipe(
    safeUrl({
      schemes: ["https", "http"],
      example: '"https://github.com/acme/retrieval-stack/blob/main/docs/runbooks.md"',
    }),
  );

/**
 * Restarts within 15 minutes: with the kubelet's default back-off (10 s, doubling, capped at 5 min;
 * kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle, read 2026-12-07) a crashing container restarts at most
 * about 7 times in 15 minutes, so a higher threshold could never fire.
 */
const POD_RESTARTS = bounded({
  min: 1,
  max: 10,
  int: true,
  tooHigh: "the kubelet's restart back-off allows about 7 restarts in 15 minutes, so the alert could never fire",
});
const QUEUE_BACKLOG = bounded({
  min: 0,
  aboveMin: true,
  max: 100000,
  tooHigh: "no engine queues that many requests, so the alert could never fire",
});
const LOW_TRAFFIC_RPS = bounded({
  min: 0,
  aboveMin: true,
  max: 100000,
  unit: " req/s",
  tooHigh: "above the gateway's highest rate limit, so the alert would fire all the time",
});

export const AlertThresholdsSchema = z.strictObject({
  modelDownFor: AlertFor.default("5m").meta({
    description: "ModelDown: no ready replica for this long (a pod restart or a rolling update must not page).",
  }),
  errorRatio: Threshold(z.number().gt(0).lt(1), "5m")
    .default({ value: 0.05, for: "5m" })
    .meta({ description: "Engine 5xx / all requests above this share." }),
  latencyP99For: AlertFor.default("10m").meta({
    description: "p99 latency above the model's models[].slo.p99LatencyMs for this long.",
  }),
  queueBacklog: Threshold(QUEUE_BACKLOG, "10m")
    .default({ value: 50, for: "10m" })
    .meta({ description: "Waiting requests per model above this many." }),
  atMaxReplicasFor: AlertFor.default("15m").meta({
    description: "A model at its replicas.max this long: the autoscaler cannot add capacity.",
  }),
  podRestarts: Threshold(POD_RESTARTS, "0m")
    .default({ value: 3, for: "0m" })
    .meta({ description: "Container restarts within 15 minutes above this many." }),
  gpuMemoryRatio: Threshold(z.number().gt(0).lt(1), "10m").default({ value: 0.95, for: "10m" }).meta({
    description:
      "Framebuffer used / total of a GPU held by a model whose engine allocates memory as it goes (TEI, KServe's Hugging Face backend, Xinference on sentence-transformers): the next large batch may fail with CUDA out of memory. GPUs of engines that reserve their share up front (vLLM, SGLang, KServe's vLLM backend: models[].gpu.memoryFraction) are full by design and not watched.",
  }),
  gpuUtilization: Threshold(z.number().gt(0).lte(1), "15m")
    .default({ value: 0.9, for: "15m" })
    .meta({ description: "Mean GPU utilisation (DCGM) above this share: the models on the GPU are saturated." }),
  gpuPodsPendingFor: AlertFor.default("10m").meta({
    description: "Model pods Pending on a GPU node group this long (group at maxSize, out of capacity, or no match).",
  }),
  metricsMissingFor: AlertFor.default("10m").meta({
    description:
      "None of an engine's metrics received for a model this long: dashboards, alerts and autoscaling are blind.",
  }),
  meanLatency: z
    .strictObject({
      ofP99: z.number().gt(0).lte(1).default(0.5).meta({
        description:
          "The mean-latency objective of a model without models[].slo.meanLatencyMs: this share of its slo.p99LatencyMs.",
      }),
      for: AlertFor.default("10m").meta({ description: "How long the condition holds before the alert fires." }),
    })
    .default({ ofP99: 0.5, for: "10m" })
    .meta({
      description:
        "Mean request latency per model above its objective (models[].slo.meanLatencyMs, else ofP99 x slo.p99LatencyMs); engines with a latency histogram.",
    }),
  lowTraffic: z
    .strictObject({
      enabled: z.boolean().default(false).meta({ description: "Render the low-traffic alert." }),
      value: LOW_TRAFFIC_RPS.default(10).meta({ description: "Requests per second below which it fires." }),
      for: AlertFor.default("15m").meta({ description: "How long traffic stays below value before it fires." }),
      utcHours: z
        .strictObject({
          start: z.number().int().min(0).max(23).meta({ description: "First UTC hour of the window (0-23)." }),
          end: z.number().int().min(1).max(24).meta({ description: "UTC hour the window ends (1-24, exclusive)." }),
        })
        .refine((h) => h.start < h.end, { message: "start must be before end (hours 0-24, UTC)" })
        .optional()
        .meta({ description: "Limit the alert to a daily window in UTC (PromQL's hour()), e.g. 8 to 20." }),
    })
    .default({ enabled: false, value: 10, for: "15m" })
    .meta({
      description:
        "Fewer requests per second than `value` while the model runs. Off by default: what is low depends on the product.",
    }),
  cpuSaturation: Threshold(z.number().gt(0).lte(4), "5m")
    .default({ value: 0.85, for: "5m" })
    .meta({ description: "CPU used / CPU requested of a CPU-served model (no models[].gpu) above this share." }),
  memoryOfLimit: Threshold(z.number().gt(0).lt(1), "5m")
    .default({ value: 0.9, for: "5m" })
    .meta({ description: "Working-set memory / memory limit of a model container above this share (OOM risk)." }),
  gateway: z
    .strictObject({
      errorRatio: Threshold(z.number().gt(0).lt(1), "5m")
        .default({ value: 0.05, for: "5m" })
        .meta({ description: "5xx / all answers per API key and model above this share." }),
      minRequestsPerSecond: z.number().positive().default(0.1).meta({
        description:
          "GatewayHighErrorRate only for a key and model with at least this many requests per second over the window (0.1 = 30 in 5 minutes): one failed call of a quiet key is not a 100% error rate worth a page.",
      }),
      breakerOpenFor: AlertFor.default("2m").meta({ description: "A model's circuit breaker open this long." }),
      quotaExhaustedFor: AlertFor.default("10m").meta({
        description: "Quota rejections of a key for this long (a key at its quota keeps being refused).",
      }),
      redisDownFor: AlertFor.default("2m").meta({ description: "Redis unreachable (limits fail open) this long." }),
    })
    .default({
      errorRatio: { value: 0.05, for: "5m" },
      minRequestsPerSecond: 0.1,
      breakerOpenFor: "2m",
      quotaExhaustedFor: "10m",
      redisDownFor: "2m",
    })
    .meta({ description: "The API gateway's alerts (rendered when the stack has a gateway)." }),
});
export type AlertThresholds = z.infer<typeof AlertThresholdsSchema>;

/** The quality canary (images/canary, deployed by components/observability/quality-canary.ts). */
export const CanarySchema = z.strictObject({
  enabled: z.boolean().default(true).meta({
    description: "Deploy the canary (with its alerts and dashboard rows) where the stack wires it.",
  }),
  intervalSeconds: bounded({
    min: 10,
    max: 86400,
    int: true,
    unit: " s",
    tooHigh: "a canary that runs less than once a day cannot hold ModelQualityLow or CanaryStale to anything",
  })
    .default(300)
    .meta({
      description: "Seconds between runs over every model.",
    }),
  jitterSeconds: bounded({ min: 0, max: 3600, int: true, unit: " s", tooHigh: "the wait would drift by hours" })
    .default(30)
    .meta({ description: "Each wait is the interval ± up to this many seconds." }),
  minMrrAt10: z.number().gt(0).lte(1).default(0.75).meta({
    description: "ModelQualityLow below this MRR@10, unless the model has its own in `models`.",
  }),
  models: z
    .record(
      z.string(),
      z.strictObject({
        minMrrAt10: z.number().gt(0).lte(1).meta({ description: "This model's MRR@10 threshold." }),
      }),
    )
    .default({})
    .meta({ description: 'Per-model thresholds, by model name, e.g. { "qwen3-reranker": { minMrrAt10: 0.8 } }.' }),
  qualityLowFor: AlertFor.default("15m").meta({
    description: "MRR@10 below the threshold this long fires ModelQualityLow.",
  }),
  checkFailingFor: AlertFor.default("15m").meta({
    description: "A canary check failing this long fires CanaryCheckFailing.",
  }),
  userSet: z
    .strictObject({
      configMap: ObjectName.meta({ description: "Name of the ConfigMap in the canary's namespace." }),
      key: z.string().min(1).default("queries.jsonl").meta({ description: "The ConfigMap key that holds the JSONL." }),
    })
    .optional()
    .meta({
      description:
        'Your own labelled set: a ConfigMap in the canary\'s namespace whose key holds JSONL, one query per line: {"query": "...", "candidates": [{"id": "d1", "text": "..."}], "relevant": ["d1"]}.',
    }),
  keyName: DnsLabel.default("canary").meta({
    description: "The name of the canary's API key at the gateway: usage and quotas per key show its calls apart.",
  }),
});
export type CanaryConfig = z.infer<typeof CanarySchema>;

/** Logs next to metrics: Loki (single binary) and Grafana Alloy on every node (components/observability/logs). */
export const LogsSchema = z.strictObject({
  enabled: z
    .boolean()
    .optional()
    .meta({ description: "Deploy Loki and Alloy. Default: on in cloud stacks, off in local (environment profile)." }),
  retention: Retention.optional().meta({
    description: "How long Loki keeps logs (and the S3 lifecycle rule expires them); default: observability.retention.",
  }),
  storageGiB: bounded({
    min: 1,
    max: 16384,
    int: true,
    unit: " GiB",
    tooHigh: "larger than the largest gp3 volume (16 TiB)",
  })
    .default(20)
    .meta({
      description: "Loki's volume (filesystem storage in local; the write-ahead log and index cache in cloud stacks).",
    }),
});
export type LogsConfig = z.infer<typeof LogsSchema>;

export const ObservabilitySchema = z.strictObject({
  enabled: z.boolean().default(true).meta({
    description: "Deploy Prometheus, Alertmanager, Grafana and the alert rules (kube-prometheus-stack).",
  }),
  retention: Retention.default("15d").meta({ description: "How long Prometheus keeps metrics." }),
  storageGiB: z
    .number()
    .int()
    .nonnegative()
    .max(16384, {
      message: fixMessage("is above 16384 GiB (16 TiB), which this project takes for a typo", "use a size such as 200"),
    })
    .default(50)
    .meta({ description: "Prometheus volume; 0 = emptyDir (local only)." }),
  grafana: z
    .strictObject({
      exposeViaIngress: z.boolean().default(false).meta({
        description: "Serve Grafana at /grafana through the stack's ingress; off: reach it with kubectl port-forward.",
      }),
    })
    .default({ exposeViaIngress: false })
    .meta({ description: "Grafana settings." }),
  alerts: AlertThresholdsSchema.default(AlertThresholdsSchema.parse({})).meta({
    description: "Alert thresholds and durations (components/observability/alert-rules.ts).",
  }),
  receivers: z
    .array(ReceiverSchema)
    .default([])
    .meta({ description: "Alertmanager receivers (chat or webhook) and the severities routed to each." }),
  canary: CanarySchema.default(CanarySchema.parse({})).meta({
    description: "The quality canary: a labelled query set run against every model, MRR@10 as a metric.",
  }),
  logs: LogsSchema.default(LogsSchema.parse({})).meta({
    description: "Logs next to metrics: Loki (single binary) and Grafana Alloy on every node.",
  }),
  runbookBaseUrl: RunbookBaseUrl.optional().meta({
    description:
      'Where alerts\' runbook_url points: the absolute http(s) URL of docs/runbooks.md as your team browses it (e.g. "https://github.com/acme/retrieval-stack/blob/main/docs/runbooks.md"); each alert appends its #anchor. Unset: alerts carry no runbook_url (a relative path opens nowhere from Alertmanager or chat) and plan.md says so; prod refuses to deploy without it.',
  }),
});
export type ObservabilityConfig = z.infer<typeof ObservabilitySchema>;
