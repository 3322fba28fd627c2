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
});
export type AlertThresholds = z.infer<typeof AlertThresholdsSchema>;

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
  /**
   * Where alerts' runbook_url points: docs/runbooks.md of this repository as your team browses it (e.g.
   * "https://github.com/acme/retrieval-stack/blob/main/docs/runbooks.md"); each alert appends its #anchor.
   */
  runbookBaseUrl: z
    .string()
    .min(1)
    .refine((u) => !/\{\{|\}\}/.test(u), {
      message: fixMessage("holds {{ or }}, which Alertmanager's Go templates would try to expand", "remove them"),
    })
    .refine((u) => !/^[a-z][a-z0-9+.-]*:/i.test(u) || /^https?:\/\//i.test(u), {
      message: fixMessage(
        "uses a scheme other than http(s), which alert links cannot open",
        'use an https URL, e.g. "https://github.com/acme/retrieval-stack/blob/main/docs/runbooks.md"',
      ),
    })
    .default("docs/runbooks.md"),
});
export type ObservabilityConfig = z.infer<typeof ObservabilitySchema>;
