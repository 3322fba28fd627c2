import { problem } from "../../config/errors";
import { gatewayReplicas } from "../../config/gateway";
import { profileOf } from "../../config/environments";
import type { Rule, RuleProblem } from "./types";

/** Names the gateway gives keys of its own: secrets.apiKeys become api-key-1, api-key-2, ... (components/gateway). */
const GENERATED_KEY_NAME = /^api-key-\d+$/;

/**
 * The gateway's named keys: one hash under two names would count one caller's usage under whichever name the
 * gateway finds first; a name the project generates (api-key-N, the canary's keyName) would merge two callers'
 * limits and audit lines. And where the environment needs a spare (staging, prod), one gateway replica is a single
 * point of failure that no disruption budget can protect.
 */
export const gatewayKeyRules: Rule = (config) => {
  const g = config.gateway;
  if (!g?.enabled) return [];
  const out: RuleProblem[] = [];
  const owner = new Map<string, string>();
  const canaryKey = config.observability?.canary.enabled ? config.observability.canary.keyName : undefined;
  for (const [name, key] of Object.entries(g.keys)) {
    if (GENERATED_KEY_NAME.test(name) || name === canaryKey)
      out.push(
        problem(
          ["gateway", "keys", name],
          name,
          name === canaryKey
            ? "is the quality canary's key name (observability.canary.keyName), so the canary's calls and this caller's would share usage, limits and audit lines"
            : "is a name the gateway gives the secret apiKeys (api-key-1, api-key-2, ...), so two callers would share usage, limits and audit lines",
          `rename the key, e.g. "${name}-team"`,
        ),
      );
    key.sha256.forEach((hash, i) => {
      const first = owner.get(hash);
      if (first !== undefined && first !== name)
        out.push(
          problem(
            ["gateway", "keys", name, "sha256", i],
            `${hash.slice(0, 12)}...`,
            `is also a hash of key "${first}": one API key under two names, so its usage would be counted under either`,
            `remove it from one of the two (a rotated key keeps both hashes under one name)`,
          ),
        );
      else owner.set(hash, name);
    });
  }
  // Plain http for the issuer's keys only where the environment allows plain HTTP (local): elsewhere anyone on the
  // path could swap the keys and sign tokens of their own.
  if (g.jwt && config.environment && !profileOf(config.environment).allowPlainHttp)
    for (const key of ["issuer", "jwksUrl"] as const)
      if (g.jwt[key].startsWith("http:"))
        out.push(
          problem(
            ["gateway", "jwt", key],
            g.jwt[key],
            `is plain http in ${config.environment}: anyone on the path could replace the issuer's keys and sign their own tokens`,
            `use the https URL, e.g. "${g.jwt[key].replace(/^http:/, "https:")}"`,
          ),
        );
  if (config.environment) {
    const floor = profileOf(config.environment).minReplicasFloor;
    const replicas = gatewayReplicas(g, floor);
    if (floor >= 2 && replicas < 2)
      out.push(
        problem(
          ["gateway", "replicas"],
          g.replicas,
          `is ${replicas} in ${config.environment}: every model is reached through the gateway, so one pod's restart or node drain takes the whole API down, and a disruption budget cannot protect a single replica`,
          "set at least 2 (or remove it: the default here is 2)",
        ),
      );
  }
  return out;
};
