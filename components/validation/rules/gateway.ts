import { dialectNamed } from "../../serving/dialects";
import { adapterFor } from "../../serving/engines";
import { servedDims } from "../../serving/context";
import type { Rule, RuleProblem } from "./types";
import { NAMESPACE_POD_SECURITY } from "../../k8s/namespaces";
import { aliasSwitchOf } from "../alias-switch";

/** Namespaces the gateway must not share: the stack's own (their Pod Security level and policies are not the gateway's) and Kubernetes'. */
const TAKEN_NAMESPACES = [
  ...Object.keys(NAMESPACE_POD_SECURITY),
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
];

/**
 * Gateway rules: aliases name models of one task; embedding aliases switch whole (vectors of two models cannot
 * share an index, even at equal dimensions), a switch to another model must be confirmed unless both load the same
 * weights (then the verification compares fingerprints), and a switch to other dimensions must be confirmed; dialect overrides
 * exist and serve the model's task; caches are for rerank models; Redis settings fit the replica count.
 */
export const gatewayRules: Rule = (config) => {
  const out: RuleProblem[] = [];
  const g = config.gateway;
  const models = config.models;
  if (!g || !models || !g.enabled) return out;
  const byName = new Map(models.filter(Boolean).map((m) => [m.name, m]));
  if (TAKEN_NAMESPACES.includes(g.namespace))
    out.push({
      path: ["gateway", "namespace"],
      value: g.namespace,
      message: `is a namespace another part of the stack (or Kubernetes) uses; the gateway, its Redis and the canary need their own, which enforces Pod Security restricted. Fix: use e.g. "retrieval-gateway" (the default), not one of ${TAKEN_NAMESPACES.join(", ")}.`,
    });

  for (const [alias, a] of Object.entries(g.aliases)) {
    const at = (...p: PropertyKey[]) => ["gateway", "aliases", alias, ...p];
    if (byName.has(alias)) {
      out.push({
        path: at(),
        value: alias,
        message: `is also a model's name, so callers could not reach that model by name. Fix: give the alias another name (every versioned model name stays callable).`,
      });
      continue;
    }
    const targets = a.targets.map((t, i) => ({ t, i, m: byName.get(t.model) }));
    const missing = targets.filter((x) => !x.m);
    for (const x of missing)
      out.push({
        path: at("targets", x.i, "model"),
        value: x.t.model,
        message: `is not a model of this stack. Fix: use one of ${[...byName.keys()].join(", ")}.`,
      });
    if (missing.length) continue;
    const tasks = new Set(targets.map((x) => x.m!.task));
    if (tasks.size > 1) {
      out.push({
        path: at("targets"),
        value: a.targets.map((t) => t.model),
        message: `mixes embed and rerank models. Fix: point an alias at models of one task.`,
      });
      continue;
    }
    if (a.fallback !== undefined) {
      const f = byName.get(a.fallback);
      const task = targets[0]!.m!.task;
      const dims = servedDims(targets[0]!.m!);
      if (!f)
        out.push({
          path: at("fallback"),
          value: a.fallback,
          message: `is not a model of this stack. Fix: use one of ${[...byName.keys()].join(", ")}.`,
        });
      else if (f.task !== task)
        out.push({
          path: at("fallback"),
          value: a.fallback,
          message: `is a${f.task === "embed" ? "n embed" : " rerank"} model and the alias serves ${task}. Fix: name a ${task} model.`,
        });
      else if (task === "embed" && servedDims(f) !== dims)
        out.push({
          path: at("fallback"),
          value: a.fallback,
          message: `serves ${servedDims(f) ?? "?"}-dim vectors and the alias ${dims ?? "?"}-dim ones: its vectors would not fit the callers' indexes. Fix: name a model of ${dims ?? "the same"} dims (and the same vectors), or remove the fallback.`,
        });
    }
    const live = targets.filter((x) => x.t.weight > 0);
    if (live.length === 0)
      out.push({
        path: at("targets"),
        value: a.targets.map((t) => t.weight),
        message: `has no target with a weight above 0, so nothing would answer. Fix: give one target a weight, e.g. 100.`,
      });
    if (a.shadow) {
      const s = byName.get(a.shadow.model);
      if (!s)
        out.push({
          path: at("shadow", "model"),
          value: a.shadow.model,
          message: `is not a model of this stack. Fix: use one of ${[...byName.keys()].join(", ")}.`,
        });
      else if (s.task !== "rerank" || targets[0]!.m!.task !== "rerank")
        out.push({
          path: at("shadow", "model"),
          value: a.shadow.model,
          message: `is a${s.task === "embed" ? "n embed" : " rerank"} model on a${targets[0]!.m!.task === "embed" ? "n embed" : " rerank"} alias: shadow traffic compares rankings, so only rerank aliases take a rerank shadow. Fix: remove shadow, or name a rerank model.`,
        });
    }
    if (targets[0]!.m!.task !== "embed") continue;
    if (a.targets.length > 1) {
      out.push({
        path: at("targets"),
        value: a.targets.map((t) => `${t.model}:${t.weight}`),
        message: `splits an embedding alias between models: vectors of two models cannot share one index, even at equal dimensions. Fix: list one target (switch the alias whole; callers can still call each versioned model by its name).`,
      });
      continue;
    }
    // A switch away from the model the indexes were built with: refused unless both serve the same weights, in
    // which case the verification compares the fingerprints (alias-switch.ts; the plan warns).
    const change = aliasSwitchOf(config, a);
    if (change?.kind === "refused")
      out.push({
        path: at("indexedWith"),
        value: a.indexedWith,
        message: `says the callers' indexes hold ${change.from}'s vectors, but the alias now points at ${change.to}, whose vectors cannot match: ${change.why}. Fix: point the alias back at ${change.from}, or, after re-indexing with ${change.to}, confirm the switch by setting indexedWith: ${change.to}.`,
      });
    const dims = servedDims(targets[0]!.m!);
    if (dims !== undefined && a.dimensions === undefined)
      out.push({
        path: at("dimensions"),
        value: a.dimensions,
        message: `is required for an embedding alias: it records the vector size the callers' indexes hold, so that a switch to a model of other dimensions is refused. Fix: set it to ${dims} (${a.targets[0]!.model}'s dims).`,
      });
    else if (dims !== undefined && a.dimensions !== dims)
      out.push({
        path: at("dimensions"),
        value: a.dimensions,
        message: `differs from ${a.targets[0]!.model}'s ${dims} dims: switching the alias would break every index built with ${a.dimensions}-dim vectors. Fix: point the alias back at a ${a.dimensions}-dim model, or, after re-indexing, confirm the switch by setting dimensions to ${dims}.`,
      });
  }

  for (const [model, dialect] of Object.entries(g.dialects)) {
    const at = ["gateway", "dialects", model];
    const m = byName.get(model);
    if (!m) {
      out.push({
        path: at,
        value: model,
        message: `is not a model of this stack. Fix: remove it or use a model name.`,
      });
      continue;
    }
    const d = dialectNamed(dialect);
    if (!d) {
      out.push({
        path: at,
        value: dialect,
        message: `is not a known dialect. Fix: use one of the names in components/serving/dialects (e.g. "kserve-v1", "kserve-v2", "tei-native") or remove it to use ${m.engine}'s own ("${adapterFor(m.engine).dialect.name}").`,
      });
      continue;
    }
    if (!(m.task === "embed" ? d.embed : d.rerank))
      out.push({
        path: at,
        value: dialect,
        message: `has no ${m.task} endpoint, and ${model} is a ${m.task} model. Fix: pick a dialect that serves ${m.task}.`,
      });
  }

  // An override for a model that is not deployed would silently do nothing.
  for (const name of Object.keys(g.inFlightPerPod))
    if (!byName.has(name))
      out.push({
        path: ["gateway", "inFlightPerPod", name],
        value: name,
        message: `is not a model of this stack. Fix: use one of ${[...byName.keys()].join(", ")}, or remove the entry.`,
      });

  for (const name of Object.keys(g.rerankCache)) {
    const m = byName.get(name);
    const alias = g.aliases[name];
    const task = m?.task ?? (alias ? byName.get(alias.targets[0]!.model)?.task : undefined);
    if (task !== "rerank")
      out.push({
        path: ["gateway", "rerankCache", name],
        value: name,
        message: `is not a rerank model of this stack${task ? ` (it is an ${task} model)` : ""}; only rerank answers are cached. Fix: name a rerank model, or remove the entry.`,
      });
  }

  // A key's scope names what callers of that key may call: a model or an alias of this stack. A typo would
  // silently leave the key unable to call what its owner expects (404 as if absent).
  const callable = [...byName.keys(), ...Object.keys(g.aliases)];
  for (const [key, k] of Object.entries(g.keys))
    (k.models ?? []).forEach((name, i) => {
      if (!callable.includes(name))
        out.push({
          path: ["gateway", "keys", key, "models", i],
          value: name,
          message: `is neither a model nor an alias of this stack, so the key could never call it. Fix: use one of ${callable.join(", ")}.`,
        });
    });
  // Draining shorter than one call's every attempt would cut requests that are within their upstream timeout.
  const longestCall = Math.ceil(g.upstreamTimeoutSeconds * g.attempts);
  if (g.drainSeconds !== undefined && g.drainSeconds < longestCall)
    out.push({
      path: ["gateway", "drainSeconds"],
      value: g.drainSeconds,
      message: `is shorter than the longest call the gateway may be serving (upstreamTimeoutSeconds x attempts = ${longestCall} s), so a stopping pod would cut requests within their timeout. Fix: remove drainSeconds (default ${longestCall + 10} s) or set it to at least ${longestCall}.`,
    });

  if (g.redis.mode === "external" && !g.redis.url)
    out.push({
      path: ["gateway", "redis", "url"],
      value: undefined,
      message: `is required with redis.mode "external". Fix: set it, e.g. "redis://redis.cache:6379/0", or use mode "deploy".`,
    });
  if (g.redis.mode !== "external" && g.redis.url)
    out.push({
      path: ["gateway", "redis", "url"],
      value: g.redis.url,
      message: `is only read with redis.mode "external" (now "${g.redis.mode}"). Fix: set mode to "external" or remove the url.`,
    });
  const mostReplicas = Math.max(g.replicas ?? 1, g.maxReplicas);
  if (g.redis.mode === "memory" && mostReplicas > 1)
    out.push({
      path: ["gateway", "redis", "mode"],
      value: g.redis.mode,
      message: `keeps limits per replica, and the gateway may run ${mostReplicas} replicas (replicas/maxReplicas), which would let each key through ${mostReplicas} times its limit. Fix: use "deploy" (or "auto") so replicas share the counts in Redis, or set replicas and maxReplicas to 1.`,
    });
  if (g.replicas !== undefined && g.replicas > g.maxReplicas)
    out.push({
      path: ["gateway", "replicas"],
      value: g.replicas,
      message: `is above gateway.maxReplicas (${g.maxReplicas}). Fix: raise maxReplicas or lower replicas.`,
    });
  return out;
};
