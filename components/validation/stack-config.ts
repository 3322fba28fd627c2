import { CONFIG_NAMESPACE, type ConfigProblem, fixMessage } from "../config/errors";
import { PLATFORM_SECTIONS, type PlatformConfig } from "../config/schema";
import { SECRET_KEYS } from "../config/secrets";
import { parsePlatformConfig, type ParseOptions } from "./parse";
import { closest } from "./suggest";

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

/**
 * Keys the program would never read: a namespace one typo away from ours (`retreival-stack:models`), or one of our
 * keys without a namespace (`models:`). Pulumi passes both through silently, so the stack would deploy without them.
 */
export function namespaceProblems(keys: Iterable<string>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const key of keys) {
    const colon = key.indexOf(":");
    const [ns, name] = colon < 0 ? [undefined, key] : [key.slice(0, colon), key.slice(colon + 1)];
    if (ns === CONFIG_NAMESPACE) continue;
    const right = `${PREFIX}${closest(name, KNOWN_KEYS) ?? name}`;
    if (ns === undefined) {
      const what = `has no namespace, and this program reads only ${PREFIX}* keys`;
      out.push({ path: key, value: undefined, message: fixMessage(what, `rename it to ${right}`) });
    } else if (closest(ns, [CONFIG_NAMESPACE]) !== undefined || ns.toLowerCase().includes("retr")) {
      const what = `namespace "${ns}" is not this project's ("${CONFIG_NAMESPACE}"), so the program never reads it`;
      out.push({ path: key, value: undefined, message: fixMessage(what, `rename it to ${right}`) });
    }
  }
  return out;
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
    fileProblems: [...namespaceProblems(Object.keys(input.config)).map(located), ...(input.fileProblems ?? [])],
  });
}
