import { PLACEHOLDER_MARK } from "./stack-file";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const REDACTED = "[secret]";

/** Finds the URN of a resource by type and name (a resource object passed as an input carries only those). */
export type UrnOf = (type: string, name: string) => string | undefined;

/** Keys whose values are never worth printing (serialized dynamic-provider code). */
const DROPPED_KEYS = new Set(["__provider"]);

/**
 * Replaces every Pulumi secret in a value with "[secret]", and every reference to another resource with its URN
 * (a resource reference, or a whole resource object such as the Cluster a ManagedNodeGroup takes, which would
 * otherwise print as a page of "[Calling ]" getters).
 */
export function redactSecrets(value: unknown, urnOf?: UrnOf): unknown {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, urnOf));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return redactLeaves(o.value);
    if (o[SIG_KEY] === RESOURCE_SIG && typeof o.urn === "string") return o.urn;
    if (o[SIG_KEY] !== undefined) return `[${String(o[SIG_KEY]).slice(0, 8)}]`;
    if (o.__pulumiResource === true && typeof o.__pulumiType === "string") {
      const type = o.__pulumiType;
      const name = String(o.__name);
      return urnOf?.(type, name) ?? `resource ${type} ${name}`;
    }
    return Object.fromEntries(
      Object.entries(o)
        .filter(([k]) => !DROPPED_KEYS.has(k))
        .map(([k, v]) => [k, redactSecrets(v, urnOf)]),
    );
  }
  return value;
}

/**
 * A secret keeps its shape (a secret map stays a map, e.g. a Secret's stringData) so that the object still
 * validates against its schema; every scalar inside becomes "[secret]".
 */
function redactLeaves(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactLeaves);
  if (value && typeof value === "object" && (value as Record<string, unknown>)[SIG_KEY] === undefined) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactLeaves(v)]));
  }
  return REDACTED;
}

/**
 * A secret that reached an output without Pulumi's secret marking (e.g. copied into a plain ConfigMap) shows up
 * as a placeholder after redaction: that is a leak in the program, and the plan fails on it.
 */
export function findLeakedPlaceholders(text: string): string[] {
  const found = new Set<string>();
  const re = new RegExp(`${PLACEHOLDER_MARK}[-:\\w.\\[\\]]*`, "g");
  for (const m of text.matchAll(re)) found.add(m[0]);
  const b64 = Buffer.from(PLACEHOLDER_MARK).toString("base64").slice(0, 12);
  if (text.includes(b64)) found.add(`base64(${PLACEHOLDER_MARK}...)`);
  return [...found];
}
