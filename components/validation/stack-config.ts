import { CONFIG_NAMESPACE, type ConfigProblem, fixMessage } from "../config/errors";
import { PLATFORM_SECTIONS, type PlatformConfig } from "../config/schema";
import { SECRET_KEYS } from "../config/secrets";
import { parsePlatformConfig, type ParseOptions } from "./parse";
import { closest } from "../config/suggest";

/** A stack's whole config as Pulumi hands it over: full keys (`retrieval-stack:models`, `aws:region`). */
export interface StackConfigInput {
  readonly config: Readonly<Record<string, unknown>>;
  /** Full keys that Pulumi holds as secrets. */
  readonly secretKeys: Iterable<string>;
  readonly locate?: ParseOptions["locate"];
  /** Problems the file reader found (e.g. .inf values). */
  readonly fileProblems?: readonly ConfigProblem[];
}

const KNOWN_KEYS: readonly string[] = [...Object.keys(PLATFORM_SECTIONS), ...SECRET_KEYS];
const PREFIX = `${CONFIG_NAMESPACE}:`;

interface MisplacedKey {
  /** The key this project would read, e.g. "models" for `retreival-stack:models`. */
  readonly name: string;
  readonly problem: ConfigProblem;
}

/**
 * Keys the program would never read: a namespace one typo away from ours (`retreival-stack:models`), or one of our
 * keys without a namespace (`models:`). Pulumi passes both through silently, so the stack would deploy without them.
 */
function misplacedKeys(config: Readonly<Record<string, unknown>>): MisplacedKey[] {
  const out: MisplacedKey[] = [];
  for (const [key, value] of Object.entries(config)) {
    const colon = key.indexOf(":");
    const [ns, rest] = colon < 0 ? [undefined, key] : [key.slice(0, colon), key.slice(colon + 1)];
    if (ns === CONFIG_NAMESPACE) continue;
    const name = closest(rest, KNOWN_KEYS) ?? rest;
    const fix = `rename it to ${PREFIX}${name}`;
    const ours = ns !== undefined && (closest(ns, [CONFIG_NAMESPACE]) !== undefined || /retr|rieval/i.test(ns));
    const what =
      ns === undefined
        ? `has no namespace, and this program reads only ${PREFIX}* keys`
        : `namespace "${ns}" is not this project's ("${CONFIG_NAMESPACE}"), so the program never reads it`;
    if (ns === undefined || ours)
      out.push({ name, problem: { path: key, value: decoded(value), message: fixMessage(what, fix) } });
  }
  return out;
}

/** Sections arrive as JSON text from Pulumi; shown and checked as what the file holds. */
function decoded(value: unknown): unknown {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function namespaceProblems(config: Readonly<Record<string, unknown>>): ConfigProblem[] {
  return misplacedKeys(config).map((m) => m.problem);
}

/**
 * Validates a stack's config given with full keys: the namespace check, then parsePlatformConfig over the
 * `retrieval-stack:*` keys, with the other namespaces (aws:region) for the rules that compare with them.
 */
export function parseStackConfig(input: StackConfigInput, source: string): PlatformConfig {
  const raw: Record<string, unknown> = {};
  const other: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input.config)) {
    if (key.startsWith(PREFIX)) raw[key.slice(PREFIX.length)] = value;
    else other[key] = value;
  }
  // A key under the wrong namespace is an error; its value is still checked under the right key, so the first
  // run reports its problems too (and not also "retrieval-stack:models is required").
  const misplaced = misplacedKeys(input.config);
  for (const m of misplaced) if (raw[m.name] === undefined) raw[m.name] = m.problem.value;
  const secretKeys = new Set(
    [...input.secretKeys].filter((k) => k.startsWith(PREFIX)).map((k) => k.slice(PREFIX.length)),
  );
  const located = (p: ConfigProblem): ConfigProblem => {
    const at = input.locate?.(p.path);
    return at ? { ...p, line: at.line, column: at.column } : p;
  };
  return parsePlatformConfig(raw, {
    secretKeys,
    source,
    locate: input.locate,
    otherConfig: other,
    fileProblems: [...misplaced.map((m) => located(m.problem)), ...(input.fileProblems ?? [])],
  });
}
