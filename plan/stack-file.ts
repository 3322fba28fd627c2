import * as fs from "node:fs";
import * as YAML from "yaml";
import { CONFIG_NAMESPACE, SECRET_KEYS } from "../components/config";

/** Marks every value that stands in for a secret offline; the plan fails if one survives redaction. */
export const PLACEHOLDER_MARK = "offline-placeholder";

export interface OfflineStackConfig {
  /** Full key -> string value, as the Pulumi engine hands config to a program (objects as JSON). */
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  /** Secret keys the plan filled with placeholders because the stack file cannot carry them offline. */
  readonly placeholders: string[];
}

const isSecure = (v: unknown): v is { secure: string } =>
  !!v && typeof v === "object" && "secure" in v && Object.keys(v).length === 1;

/**
 * Reads a Pulumi.<stack>.yaml the way the engine would, without decrypting anything: every `secure:` value
 * (which only the stack's secrets provider can decrypt) becomes a placeholder marked secret. Secret keys the
 * schema knows and the file leaves out get placeholders too, so the program can be rendered end to end; the plan
 * says so loudly, and `pulumi up` still refuses a stack whose real secrets are missing.
 */
export function readStackFile(path: string): OfflineStackConfig {
  const doc = (YAML.parse(fs.readFileSync(path, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    let secret = false;
    const replaced = replaceSecure(value, key, () => (secret = true));
    config[key] = typeof replaced === "string" ? replaced : JSON.stringify(replaced);
    if (secret) secretKeys.push(key);
  }
  const placeholders: string[] = [];
  for (const key of SECRET_KEYS) {
    const full = `${CONFIG_NAMESPACE}:${key}`;
    if (full in config) continue;
    const value = placeholderFor(key, config);
    if (value === undefined) continue;
    config[full] = value;
    secretKeys.push(full);
    placeholders.push(key);
  }
  return { config, secretKeys, placeholders };
}

function replaceSecure(value: unknown, path: string, onSecret: () => void): unknown {
  if (isSecure(value)) {
    onSecret();
    return `${PLACEHOLDER_MARK}:${path}`;
  }
  if (Array.isArray(value)) return value.map((v, i) => replaceSecure(v, `${path}[${i}]`, onSecret));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSecure(v, `${path}.${k}`, onSecret)]));
  return value;
}

/** A stand-in of the right shape for a secret the stack file does not carry. */
function placeholderFor(key: (typeof SECRET_KEYS)[number], config: Record<string, string>): string | undefined {
  const mark = `${PLACEHOLDER_MARK}-${key}`;
  switch (key) {
    case "hfToken":
    case "grafanaAdminPassword":
      return `${mark}-000000`;
    case "apiKeys":
      return JSON.stringify([`${mark}-000000`]);
    case "alertReceiverUrls": {
      const obs = config[`${CONFIG_NAMESPACE}:observability`];
      const receivers = obs ? ((JSON.parse(obs) as { receivers?: { urlSecretKey?: string }[] }).receivers ?? []) : [];
      if (receivers.length === 0) return undefined;
      return JSON.stringify(
        Object.fromEntries(receivers.map((r) => [r.urlSecretKey, `https://${mark}.invalid/${r.urlSecretKey}`])),
      );
    }
  }
}
