/**
 * One problem in a stack config: where (as the user writes it in YAML), what was there, what is wrong and how to
 * fix it.
 */
export interface ConfigProblem {
  /** e.g. `retrieval-stack:models[1].engine` (positional, as `pulumi config set --path` takes it). */
  readonly path: string;
  readonly value: unknown;
  /** What is wrong, ending with the fix ("... Fix: ..."). */
  readonly message: string;
  /** The name of the model entry the path is in, so a reader need not count list items. */
  readonly model?: string;
  /** 1-based position of the key in the stack file, where the file has one. */
  readonly line?: number;
  readonly column?: number;
}

/** A problem at a path inside the parsed config (turned into a YAML path by `yamlPath`). */
export interface PathProblem {
  /** e.g. ["models", 1, "engine"]; a path whose first element contains ":" is a full key of another namespace. */
  readonly path: readonly PropertyKey[];
  readonly value: unknown;
  readonly message: string;
}

export const CONFIG_NAMESPACE = "retrieval-stack";

const sentence = (s: string) => s.trim().replace(/[.\s]+$/, "");

/** The one form of every config message: "<what is wrong>. Fix: <how>." */
export function fixMessage(what: string, fix: string): string {
  return `${sentence(what)}. Fix: ${sentence(fix)}.`;
}

/** A problem in the "<what>. Fix: <fix>." form, by construction. */
export function problem(path: readonly PropertyKey[], value: unknown, what: string, fix: string): PathProblem {
  return { path, value, message: fixMessage(what, fix) };
}

/** Turns a path inside the parsed config into the key a user sees in Pulumi.<stack>.yaml. */
export function yamlPath(path: readonly PropertyKey[]): string {
  const [section, ...rest] = path;
  const head = String(section ?? "");
  let out = head.includes(":") ? head : `${CONFIG_NAMESPACE}:${head}`;
  for (const p of rest)
    out +=
      typeof p === "number" ? `[${p}]` : /^[A-Za-z_][\w-]*$/.test(String(p)) ? `.${String(p)}` : `["${String(p)}"]`;
  return out;
}

/** YAML's spelling of the numbers JSON cannot carry (JSON.stringify would show them as null). */
function yamlNumber(n: number): string {
  if (Number.isNaN(n)) return ".nan";
  return n > 0 ? ".inf" : "-.inf";
}

const NON_FINITE = "\u0000non-finite:";

export function describeValue(value: unknown): string {
  if (value === undefined) return "(not set)";
  const json = JSON.stringify(value, (_k, v: unknown) =>
    typeof v === "number" && !Number.isFinite(v) ? `${NON_FINITE}${yamlNumber(v)}` : v,
  );
  if (json === undefined) return String(value);
  const shown = escapeControls(json.replace(/"\\u0000non-finite:([^"]+)"/g, "$1"));
  return cutText(shown, 80);
}

/** Control characters JSON.stringify leaves as they are (DEL, C1, the Unicode line separators), escaped. */
export function escapeControls(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** At most `max` characters, with "..." where it was cut. */
export function cutText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** A user's text inside a message: control characters escaped, cut to a readable length. */
export function shownText(text: string, max = 60): string {
  return cutText(escapeControls(text), max);
}

/**
 * Longest message line: a message is a sentence or two; anything longer quotes a value whole (a 100,000-character
 * name) and is cut, each quoted part first.
 */
const MAX_MESSAGE = 600;

function readableMessage(message: string): string {
  const quotedCut = escapeControls(message).replace(/"([^"]{81,})"/g, (_m, q: string) => `"${cutText(q, 80)}"`);
  return cutText(quotedCut, MAX_MESSAGE);
}

/** Thrown before any resource is created; lists every problem at once. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly source = "stack config",
  ) {
    super(formatProblems(problems, source));
  }
}

/** Where a problem is, besides its path: the model's name and the file position. */
function whereOf(p: ConfigProblem, source: string): string {
  const parts = [
    ...(p.model ? [`model "${shownText(p.model)}"`] : []),
    ...(p.line ? [`${source}:${p.line}${p.column ? `:${p.column}` : ""}`] : []),
  ];
  return parts.length ? ` (${parts.join(", ")})` : "";
}

export function formatProblems(problems: readonly ConfigProblem[], source: string): string {
  const lines = problems.map(
    (p) =>
      `  - ${readableMessage(p.path)} = ${describeValue(p.value)}${whereOf(p, source)}: ${readableMessage(p.message)}`,
  );
  const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  return `Invalid ${source}: ${count}, nothing was created.\n${lines.join("\n")}`;
}
