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
  const text = fs.readFileSync(path, "utf8");
  const document = YAML.parseDocument(text, { lineCounter: lines });
  if (document.errors.length) throw yamlErrorOf(path, document.errors[0]!, text);
  checkShape(path, document, lines);
  let js: unknown;
  try {
    js = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // The yaml package refuses alias expansion beyond maxAliasCount (ToJSOptions, yaml 2.9.1 dist/options.d.ts).
    const first = firstAlias(document);
    const at = first?.range ? lines.linePos(first.range[0]) : undefined;
    const key = at ? keyAbove(text, at.line) : undefined;
    throw new StackFileError(
      path,
      at,
      `${key ? `${key}: ` : ""}its aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies (${(e as Error).message})`,
      "write the values out, or use fewer aliases of large anchors",
    );
  }
  const doc = (js ?? {}) as { config?: unknown };
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

/**
 * Nesting deeper than any stack file needs (the deepest key of the schema is 6 levels under `config:`): the yaml
 * package, zod and our own walks recurse per level, and thousands of levels end in "Maximum call stack size exceeded".
 */
export const MAX_NESTING = 32;
/** Aliases a stack file may expand (the yaml package's own default): more is an alias bomb. */
export const MAX_ALIAS_COUNT = 100;

/** A stack file the reader refuses: where (line and column), what is wrong and the fix. */
export class StackFileError extends Error {
  override readonly name = "StackFileError";
  constructor(
    readonly file: string,
    readonly position: { readonly line: number; readonly col: number } | undefined,
    what: string,
    fix: string,
  ) {
    super(`${file}${position ? `:${position.line}:${position.col}` : ""}: ${fixMessage(what, fix)}`);
  }
}

/** The yaml package's parse errors in our form: the position, what and a fix, without its multi-line excerpt. */
function yamlErrorOf(file: string, e: YAML.YAMLError, text: string): StackFileError {
  const at = e.linePos?.[0];
  const key = at ? keyAbove(text, at.line) : undefined;
  const first = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  const under = key ? `${key} ` : "";
  if (e.code === "RESOURCE_EXHAUSTION")
    return new StackFileError(
      file,
      at,
      `${under}is nested too deeply for the YAML reader (${first})`,
      `nest values at most ${MAX_NESTING} levels deep`,
    );
  if (e.code === "BAD_ALIAS")
    return new StackFileError(
      file,
      at,
      `${under}has an alias that names no anchor (${first})`,
      "define the anchor (&name) before the alias (*name), or write the value out",
    );
  return new StackFileError(
    file,
    at,
    `${under}is not valid YAML (${cut(first, 160)})`,
    "correct the YAML at that position",
  );
}

/** The last `config:` key (two-space indent) at or above a line, e.g. "retrieval-stack:models". */
function keyAbove(text: string, line: number): string | undefined {
  const lines = text.split("\n", line);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^ {2}([^\s:#][^\s:]*:[^\s:]+):/.exec(lines[i]!);
    if (m) return cut(m[1]!, 80);
  }
  return undefined;
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/**
 * Refuses what the yaml package parses but later steps cannot take: nesting deeper than MAX_NESTING, and an alias
 * whose anchor is not defined before it. Iterative, so that depth itself cannot overflow the stack here.
 */
function checkShape(file: string, document: YAML.Document, lines: YAML.LineCounter): void {
  const pos = (n: YAML.Node) => (n.range ? lines.linePos(n.range[0]) : undefined);
  const stack: [unknown, number, string][] = [[document.contents, 0, ""]];
  while (stack.length) {
    const [node, depth, at] = stack.pop()!;
    if (YAML.isAlias(node) && node.resolve(document) === undefined)
      throw new StackFileError(
        file,
        pos(node),
        `${at ? `${cut(at, 80)} ` : ""}has the alias *${cut(node.source, 40)}, and no anchor &${cut(node.source, 40)} is defined before it`,
        "define the anchor before the alias, or write the value out",
      );
    if (!YAML.isCollection(node)) continue;
    if (depth >= MAX_NESTING)
      throw new StackFileError(
        file,
        pos(node),
        `${cut(at, 80)} is nested more than ${MAX_NESTING} levels deep, deeper than any key of the stack config`,
        `nest values at most ${MAX_NESTING} levels deep (see docs/config-reference.md)`,
      );
    (node.items as unknown[]).forEach((item, i) => {
      if (!YAML.isPair(item)) return stack.push([item, depth + 1, `${at}[${i}]`]);
      const key = YAML.isScalar(item.key) ? String(item.key.value) : "?";
      stack.push([item.value, depth + 1, at && at !== "config" ? `${at}.${key}` : key]);
    });
  }
}

function firstAlias(document: YAML.Document): YAML.Alias | undefined {
  let found: YAML.Alias | undefined;
  YAML.visit(document, {
    Alias(_key, node) {
      found = node;
      return YAML.visit.BREAK;
    },
  });
  return found;
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
