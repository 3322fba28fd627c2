/**
 * The gateway's runtime config (runtime-config.ts) computed from a stack's config: the route table from the models
 * (the catalogue gives dims and token limits, the engine adapter the default dialect), aliases, key hashes and
 * limits. Kept apart from the schema so that the server bundle, which only parses the file, carries no catalogue.
 */
import type { PlatformConfig } from "../config/schema";
import type { ModelConfig } from "../config/serving";
import { adapterFor } from "../serving/engines";
import { servedDims, specOf } from "../serving/context";
import { RuntimeConfigSchema, type RuntimeConfig, type RuntimeKey, type RuntimeModel } from "./runtime-config";

export interface RuntimeOptions {
  /** Base URLs per model name (default: the model's Service in the cluster). */
  readonly upstreams?: Readonly<Record<string, readonly string[]>>;
  /** Hashes of keys that are not in the gateway config (secrets.apiKeys, `--api-key`), with their names. */
  readonly extraKeys?: readonly { name: string; sha256: string }[];
  readonly redisUrl?: string;
  readonly playground: boolean;
}

/** A model's in-cluster Service URL (components/serving/model-service.ts names it after the model). */
export function serviceUrl(model: Pick<ModelConfig, "name">, namespace: string): string {
  return `http://${model.name}.${namespace}.svc.cluster.local`;
}

/** The runtime config of a stack's gateway. */
export function gatewayRuntimeConfig(
  config: Pick<PlatformConfig, "models" | "gateway">,
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
    };
  });
  const keys = new Map<string, RuntimeKey>();
  for (const [name, k] of Object.entries(g.keys))
    keys.set(name, { name, sha256: [...k.sha256], ...(k.limits ? { limits: k.limits } : {}) });
  for (const k of options.extraKeys ?? []) {
    const prev = keys.get(k.name);
    keys.set(k.name, prev ? { ...prev, sha256: [...prev.sha256, k.sha256] } : { name: k.name, sha256: [k.sha256] });
  }
  return RuntimeConfigSchema.parse({
    models,
    aliases: Object.fromEntries(
      Object.entries(g.aliases).map(([n, a]) => [
        n,
        { targets: a.targets.map((t) => ({ model: t.model, weight: t.weight })) },
      ]),
    ),
    keys: [...keys.values()],
    allowAnonymous: keys.size === 0 && !g.jwt,
    limits: g.limits,
    ...(g.jwt ? { jwt: g.jwt } : {}),
    redis: { ...(options.redisUrl ? { url: options.redisUrl } : {}), onDown: g.redis.onDown },
    maxBodyBytes: g.maxBodyBytes,
    maxInputs: g.maxInputs,
    maxDocuments: g.maxDocuments,
    upstreamTimeoutMs: Math.round(g.upstreamTimeoutSeconds * 1000),
    attempts: g.attempts,
    breaker: { failures: g.breaker.failures, cooldownMs: Math.round(g.breaker.cooldownSeconds * 1000) },
    playground: options.playground,
  });
}
