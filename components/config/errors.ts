/** One problem in a stack config: where (as the user writes it in YAML), what was there, what is wrong and how to fix it. */
export interface ConfigProblem {
  /** e.g. `retrieval-stack:models[1].engine` */
  readonly path: string;
  readonly value: unknown;
  /** What is wrong, ending with the fix. */
  readonly message: string;
}

export const CONFIG_NAMESPACE = "retrieval-stack";

/** Turns a path inside the parsed config into the key a user sees in Pulumi.<stack>.yaml. */
export function yamlPath(path: readonly PropertyKey[]): string {
  const [section, ...rest] = path;
  let out = `${CONFIG_NAMESPACE}:${String(section ?? "")}`;
  for (const p of rest)
    out +=
      typeof p === "number" ? `[${p}]` : /^[A-Za-z_][\w-]*$/.test(String(p)) ? `.${String(p)}` : `["${String(p)}"]`;
  return out;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "(not set)";
  const json = JSON.stringify(value);
  if (json === undefined) return String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
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

export function formatProblems(problems: readonly ConfigProblem[], source: string): string {
  const lines = problems.map((p) => `  - ${p.path} = ${describeValue(p.value)}: ${p.message}`);
  return `Invalid ${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}, nothing was created.\n${lines.join("\n")}`;
}
