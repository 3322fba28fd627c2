import { parseArgs, type ParseArgsConfig } from "node:util";
import { editDistance } from "../../../components/config/suggest";

/**
 * Command-line mistakes as one line that names the mistake and the likely intent ("did you mean --stack?",
 * "did you forget `--`?"), never Node's parseArgs text or a stack trace. The caller prints the line and the
 * usage and exits 2.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** False for errors that are not about the arguments' form (unreadable stack outputs): no usage printed. */
  readonly showUsage: boolean;
  constructor(message: string, showUsage = true) {
    super(message);
    this.showUsage = showUsage;
  }
}

/** The closest candidate within a third of the word's length (at least 1, at most 3 edits), or a prefix match. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const max = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 3 ? 0.5 : editDistance(word, c, { adjacentSwaps: true });
    if (d <= max && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Example values for "needs a value" messages, by flag. */
type Examples = Readonly<Record<string, string>>;

/**
 * `npm run <script> --flag value` (no `--`) hands `--flag` to npm, which keeps it as `npm_config_flag=true` and
 * passes `value` on as a bare word. Returns the flags npm took, when that is what happened.
 */
export function flagsNpmTook(options: Options, env: NodeJS.ProcessEnv): string[] {
  if (!env.npm_lifecycle_event) return [];
  return Object.keys(options).filter((name) => {
    const key = `npm_config_${name.replace(/-/g, "_")}`;
    // npm expands a unique prefix of its own options: --engine becomes engine-strict.
    const value = env[key] ?? (name === "engine" ? env.npm_config_engine_strict : undefined);
    return value !== undefined && value !== "";
  });
}

/** parseArgs in strict mode, with its errors turned into UsageError lines. */
export function parseCommandLine<T extends Options>(
  argv: readonly string[],
  options: T,
  examples: Examples = {},
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "";
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const name = flag.replace(/^-+/, "").split("=")[0]!;
      const guess = closest(name, Object.keys(options));
      throw new UsageError(`unknown option ${flag}${guess ? ` (did you mean --${guess}?)` : ""}`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const name = flag.replace(/^-+/, "");
      if (options[name]?.type === "boolean")
        throw new UsageError(`${flag} takes no value (write ${flag} alone to turn it on)`);
      const example = examples[name] ? ` (e.g. ${flag} ${examples[name]})` : "";
      throw new UsageError(`${flag} needs a value${example}`);
    }
    throw new UsageError(message.split("\n")[0]!);
  }
}
