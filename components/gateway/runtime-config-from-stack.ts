/**
 * The gateway's runtime config (runtime-config.ts) computed from a stack's config: the route table from the models
 * (the catalogue gives dims and token limits, the engine adapter the default dialect), aliases, key hashes and
 * limits. Kept apart from the schema so that the server bundle, which only parses the file, carries no catalogue.
 */
import type { PlatformConfig } from "../config/schema";
import type { ModelConfig } from "../config/serving";
import { gatewayDrainSeconds } from "../config/gateway";
import { adapterFor } from "../serving/engines";
import type { BatchRequests } from "../serving/engines/types";
import { resolveContext, servedDims, specOf } from "../serving/context";
import { RuntimeConfigSchema, type RuntimeConfig, type RuntimeKey, type RuntimeModel } from "./runtime-config";

export interface RuntimeOptions {
  /** Base URLs per model name (default: the model's Service in the cluster). */
  readonly upstreams?: Readonly<Record<string, readonly string[]>>;
  /** Hashes of keys that are not in the gateway config (secrets.apiKeys, `--api-key`), with their names. */
  readonly extraKeys?: readonly { name: string; sha256: string }[];
  readonly redisUrl?: string;
  readonly playground: boolean;
  /** Gateway replicas (the divisor of the per-replica limits while the store is down). Default 1. */
  readonly replicas?: number;
  /** Per-pod routing: discover each model's ready pods from its Service's EndpointSlices. Default false. */
  readonly discovery?: boolean;
  /** Startup budget per model name (seconds): the default wake wait (capped at WAKE_WAIT_CAP_SECONDS). */
  readonly startupBudgetSeconds?: Readonly<Record<string, number>>;
  /** The ingress controller's Service: its pods' addresses are trusted for X-Forwarded-For (discovered). */
  readonly proxyDiscovery?: { readonly namespace: string; readonly service: string };
  /** Where spent budgets are learnt, when cost.refuseOverBudget is on. */
  readonly budgets?: { readonly prometheus: string } | { readonly file: string };
}

/** The longest a request waits for a model to wake by default (a large model may take longer than a caller would). */
export const WAKE_WAIT_CAP_SECONDS = 600;
/** The name of the models' Service port to the engine (components/serving/service.ts): EndpointSlices list it. */
export const MODEL_SERVICE_PORT_NAME = "http";

/** A model's in-cluster Service URL (components/serving/model-service.ts names it after the model). */
export function serviceUrl(model: Pick<ModelConfig, "name">, namespace: string): string {
  return `http://${model.name}.${namespace}.svc.cluster.local`;
}

/**
 * Requests in flight per ready pod of a model before the gateway's fair admission queues the rest (docs/gateway.md,
 * "Fair admission"): gateway.inFlightPerPod.<model>, else what the engine batches well (its adapter's batchRequests,
 * for the model's GPU when its node group is known), else the model's autoscaling.inFlightPerReplica.
 */
export function inFlightPerPod(
  model: ModelConfig,
  config: Pick<PlatformConfig, "gateway"> & Partial<Pick<PlatformConfig, "environment" | "gpuNodeGroups">>,
): BatchRequests {
  const set = config.gateway.inFlightPerPod[model.name];
  if (set) return { value: set, source: `gateway.inFlightPerPod.${model.name}` };
  const group = model.gpu ? config.gpuNodeGroups?.[model.gpu.nodeGroup] : undefined;
  const resolved = resolveContext(model, config.environment ?? "local", group ? { gpuNodeGroup: group } : {});
  const fromEngine = resolved.ctx ? adapterFor(model.engine).batchRequests?.(resolved.ctx) : undefined;
  if (fromEngine) return fromEngine;
  return {
    value: Math.max(1, Math.round(model.autoscaling.inFlightPerReplica)),
    source: `autoscaling.inFlightPerReplica; ${model.engine} has no fixed batch figure`,
  };
}

/** The runtime config of a stack's gateway. */
export function gatewayRuntimeConfig(
  config: Pick<PlatformConfig, "models" | "gateway"> & Partial<Pick<PlatformConfig, "environment" | "gpuNodeGroups">>,
  namespace: string,
  options: RuntimeOptions,
): RuntimeConfig {
  const g = config.gateway;
  const models: RuntimeModel[] = config.models.map((m) => {
    const spec = specOf(m);
    return {
      name: m.name,
      task: m.task,
      dialect: g.dialects[m.name] ?? adapterFor(m.engine).dialect.name,
      upstreams: [...(options.upstreams?.[m.name] ?? [serviceUrl(m, namespace)])],
      ...(m.task === "embed" && servedDims(m) !== undefined ? { dims: servedDims(m) } : {}),
      matryoshka: spec?.matryoshka ?? false,
      maxTokens: m.maxModelLen ?? spec?.maxTokens ?? 512,
      ownedBy: m.engine,
      ...(g.rerankCache[m.name] ? { cache: g.rerankCache[m.name] } : {}),
      ...(options.discovery ? { discovery: { namespace, service: m.name, portName: MODEL_SERVICE_PORT_NAME } } : {}),
      maxInFlightPerPod: inFlightPerPod(m, config).value,
      wake: {
        queueSize: g.wake.queueSize,
        maxWaitMs:
          1000 *
          (g.wake.maxWaitSeconds ??
            Math.min(WAKE_WAIT_CAP_SECONDS, options.startupBudgetSeconds?.[m.name] ?? WAKE_WAIT_CAP_SECONDS)),
      },
    };
  });
  const keys = new Map<string, RuntimeKey>();
  for (const [name, k] of Object.entries(g.keys))
    keys.set(name, {
      name,
      sha256: [...k.sha256],
      ...(k.limits ? { limits: k.limits } : {}),
      ...(k.models ? { models: [...k.models] } : {}),
    });
  for (const k of options.extraKeys ?? []) {
    const prev = keys.get(k.name);
    keys.set(k.name, prev ? { ...prev, sha256: [...prev.sha256, k.sha256] } : { name: k.name, sha256: [k.sha256] });
  }
  return RuntimeConfigSchema.parse({
    models,
    aliases: Object.fromEntries(
      Object.entries(g.aliases).map(([n, a]) => [
        n,
        {
          targets: a.targets.map((t) => ({ model: t.model, weight: t.weight })),
          ...(a.shadow
            ? {
                shadow: {
                  model: a.shadow.model,
                  sampleRate: a.shadow.sampleRate,
                  maxInFlight: a.shadow.maxInFlight,
                  timeoutMs: Math.round(a.shadow.timeoutSeconds * 1000),
                },
              }
            : {}),
          ...(a.fallback ? { fallback: a.fallback } : {}),
        },
      ]),
    ),
    keys: [...keys.values()],
    allowAnonymous: keys.size === 0 && !g.jwt,
    limits: g.limits,
    ...(g.jwt ? { jwt: g.jwt } : {}),
    redis: {
      ...(options.redisUrl ? { url: options.redisUrl } : {}),
      onDown: g.redis.onDown,
      replicas: options.replicas ?? 1,
    },
    maxBodyBytes: g.maxBodyBytes,
    maxInputs: g.maxInputs,
    maxDocuments: g.maxDocuments,
    upstreamTimeoutMs: Math.round(g.upstreamTimeoutSeconds * 1000),
    attempts: g.attempts,
    breaker: { failures: g.breaker.failures, cooldownMs: Math.round(g.breaker.cooldownSeconds * 1000) },
    playground: options.playground,
    trustedProxies: [...g.trustedProxies],
    ...(options.proxyDiscovery ? { proxyDiscovery: { ...options.proxyDiscovery } } : {}),
    drainTimeoutMs: Math.round(gatewayDrainSeconds(g) * 1000),
    ...(options.budgets ? { budgets: options.budgets } : {}),
  });
}
