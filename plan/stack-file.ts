import * as fs from "node:fs";
import * as YAML from "yaml";
import { CONFIG_NAMESPACE, type ConfigProblem, fixMessage, SECRET_KEYS, yamlPath } from "../components/config";

/** Marks every value that stands in for a secret offline; the plan fails if one survives redaction. */
export const PLACEHOLDER_MARK = "offline-placeholder";

export interface FilePosition {
  readonly line: number;
  readonly column: number;
}

export interface OfflineStackConfig {
  /** Full key -> string value, as the Pulumi engine hands config to a program (objects as JSON). */
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  /** Secret keys the plan filled with placeholders because the stack file cannot carry them offline. */
  readonly placeholders: string[];
  /** Line and column of a YAML path (`retrieval-stack:models[0].engine`) in the file. */
  readonly locate: (path: string) => FilePosition | undefined;
  /** What the file holds that JSON cannot carry to the program (.inf, .nan), as config problems. */
  readonly problems: ConfigProblem[];
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
  const lines = new YAML.LineCounter();
  const document = YAML.parseDocument(fs.readFileSync(path, "utf8"), { lineCounter: lines });
  if (document.errors.length) throw document.errors[0]!;
  const doc = (document.toJS() ?? {}) as { config?: unknown };
  const entries = doc.config && typeof doc.config === "object" ? Object.entries(doc.config) : [];
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const problems: ConfigProblem[] = [];
  const positions = positionsOf(document, lines);
  for (const [key, value] of entries) {
    let secret = false;
    const replaced = replaceSecure(value, key, () => (secret = true));
    for (const [at, n] of nonFinite(replaced, [key])) {
      const path = yamlPath(at);
      problems.push({
        path,
        value: n,
        message: fixMessage(
          "is not a finite number; JSON, which carries config to the program, has no .inf or .nan",
          "write a number",
        ),
        ...positions.get(path),
      });
    }
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
  return { config, secretKeys, placeholders, locate: (p) => positions.get(p), problems };
}

/** Every key's position under `config:`, by the YAML path the config errors name. */
function positionsOf(document: YAML.Document, lines: YAML.LineCounter): Map<string, FilePosition> {
  const out = new Map<string, FilePosition>();
  const at = (node: YAML.Node | YAML.Scalar | null | undefined): FilePosition | undefined => {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const walk = (node: unknown, path: PropertyKey[]) => {
    if (YAML.isMap(node))
      for (const pair of node.items) {
        const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const child = [...path, key];
        const pos = at(pair.key as YAML.Node);
        if (pos) out.set(yamlPath(child), pos);
        walk(pair.value, child);
      }
    else if (YAML.isSeq(node))
      node.items.forEach((item, i) => {
        const child = [...path, i];
        const pos = at(item as YAML.Node);
        if (pos) out.set(yamlPath(child), pos);
        walk(item, child);
      });
  };
  const config = document.get("config", true);
  if (YAML.isMap(config))
    for (const pair of config.items) {
      const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const pos = at(pair.key as YAML.Node);
      if (pos) out.set(key, pos);
      walk(pair.value, [key]);
    }
  return out;
}

function nonFinite(value: unknown, path: PropertyKey[]): [PropertyKey[], number][] {
  if (typeof value === "number") return Number.isFinite(value) ? [] : [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinite(v, [...path, i]));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => nonFinite(v, [...path, k]));
  return [];
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

/** The receivers' URL keys, whatever shape the section has (a wrong shape is the config check's to report). */
function receiverUrlKeys(observability: string | undefined): string[] {
  let parsed: unknown;
  try {
    parsed = observability ? JSON.parse(observability) : undefined;
  } catch {
    return [];
  }
  const receivers = parsed && typeof parsed === "object" ? (parsed as { receivers?: unknown }).receivers : undefined;
  if (!Array.isArray(receivers)) return [];
  return receivers.flatMap((r) => {
    const key = r && typeof r === "object" ? (r as { urlSecretKey?: unknown }).urlSecretKey : undefined;
    return typeof key === "string" && key ? [key] : [];
  });
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
      const keys = receiverUrlKeys(config[`${CONFIG_NAMESPACE}:observability`]);
      if (keys.length === 0) return undefined;
      return JSON.stringify(Object.fromEntries(keys.map((k) => [k, `https://${mark}.invalid/${k}`])));
    }
  }
}
