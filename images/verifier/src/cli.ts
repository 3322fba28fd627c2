#!/usr/bin/env node
/**
 * `retrieval-stack verify`: the post-deploy checks, by hand, against any endpoint or every model of a stack.
 * Progress goes to stderr, the table (or `--json`) to stdout; exit 0 when every check passes, 1 when one fails,
 * 2 on a usage error.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { EngineName, Task } from "../../../components/config/common";
import { lookupModel } from "../../../components/serving/models";
import { adapterFor } from "../../../components/serving/engines";
import { DIALECTS, dialectNamed } from "../../../components/serving/dialects";
import { formatReport, type VerificationReport } from "./report";
import {
  DEFAULT_OPTIONS,
  DEFAULT_PUBLIC_PATH_LIMITS,
  GATEWAY_DIALECT,
  type VerifyOptions,
  type VerifyTargetInput,
} from "../../../components/contracts/verify-target";
import { targetsFromStackOutputs } from "../../../components/contracts/stack-outputs";
import { verifyAll, type ProgressEvent } from "./verify";
import { UsageError, closest, flagsNpmTook, parseCommandLine } from "./args";

const USAGE = `Usage (from a checkout: npm run verify -- <flags>; installed: npx retrieval-stack verify <flags>):
  retrieval-stack verify --engine <vllm|sglang|tei|kserve|xinference|openai> --url <base URL> --model <served name>
                         --task <embed|rerank> [--dims N] [--api-key K] [--requests N] [--concurrency C] [--json]
  retrieval-stack verify --gateway <base URL> --model <stack model name> --task <embed|rerank> [--api-key K] ...
  retrieval-stack verify --stack <name> [--stack-outputs <file|->] [--in-cluster] [--api-key K] [--json]

One model:
  --engine E            the engine's HTTP dialect (its adapter's); "openai" = any OpenAI/Cohere-compatible server
  --dialect D           a dialect by name instead (${Object.keys(DIALECTS).join(", ")})
  --url URL             base URL the engine's paths are appended to, e.g. http://127.0.0.1:8000
  --model NAME          the model name requests carry (served name / KServe model_name / Xinference uid)
  --model-id ORG/NAME   Hugging Face id for catalogue facts (default: --model when it is one)
  --task T              embed | rerank
  --dims N              expected vector size (default: the catalogue's, e.g. 1024 for BAAI/bge-large-zh-v1.5)
  --normalized BOOL     whether vectors must have unit norm (default: the catalogue's, else false)
  --slo-p99 MS          p99 latency objective for the latency check (default: none, report only)
One model through the stack's gateway (one base URL for every model, OpenAI/Cohere shapes, bearer key):
  --gateway URL         the gateway's base URL (instead of --engine/--url), e.g. https://retrieval.example.com;
                        --model is the stack's model name; adds the official-client (base64) and rerank-shape checks
Every model of a deployed stack:
  --stack NAME          runs \`pulumi stack output --json --show-secrets --stack NAME\` and verifies every model in
                        its "verification" output, through each model's public ingress route
  --stack-outputs F     read that JSON from file F instead ("-" = stdin): no pulumi CLI needed
  --in-cluster          call the in-cluster Service URLs instead of the ingress routes (from inside the cluster)
  --no-limit-checks     skip the ingress's body-size and rate-limit checks on the public path (edge.*)
Common:
  --api-key K           sent as "Authorization: Bearer K" (default: $RETRIEVAL_API_KEY, else with --stack
                        the stack's secret "verificationApiKey" output)
  --gateway-api-key K   sent to the gateway targets of --stack (default: the stack's "verificationGatewayApiKey"
                        output, else --api-key)
  --requests N          latency check: requests (default ${DEFAULT_OPTIONS.requests})
  --concurrency C       latency check: requests in flight (default ${DEFAULT_OPTIONS.concurrency})
  --timeout S           overall budget per model, seconds (default ${DEFAULT_OPTIONS.timeoutSeconds})
  --request-timeout S   budget per HTTP attempt, seconds (default ${DEFAULT_OPTIONS.requestTimeoutSeconds})
  --retries N           retries after a transient failure (default ${DEFAULT_OPTIONS.maxRetries})
  --quality             also run MRR@10 over the bundled labelled set
  --min-mrr X           MRR@10 threshold (default ${DEFAULT_OPTIONS.quality.minMrrAt10})
  --json                print the machine-readable report instead of the table
  --quiet               no progress on stderr
Exit status: 0 all checks passed, 1 a check failed, 2 usage error.`;

const FLAGS = {
  engine: { type: "string" },
  dialect: { type: "string" },
  url: { type: "string" },
  model: { type: "string" },
  "model-id": { type: "string" },
  task: { type: "string" },
  dims: { type: "string" },
  normalized: { type: "string" },
  "slo-p99": { type: "string" },
  gateway: { type: "string" },
  "gateway-api-key": { type: "string" },
  stack: { type: "string" },
  "stack-outputs": { type: "string" },
  "in-cluster": { type: "boolean" },
  "no-limit-checks": { type: "boolean" },
  "api-key": { type: "string" },
  requests: { type: "string" },
  concurrency: { type: "string" },
  timeout: { type: "string" },
  "request-timeout": { type: "string" },
  retries: { type: "string" },
  quality: { type: "boolean" },
  "min-mrr": { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type Flags = ReturnType<typeof parseCommandLine<typeof FLAGS>>["values"];

/** Values shown in "needs a value" messages. */
const EXAMPLES: Record<string, string> = {
  engine: "vllm",
  dialect: "openai",
  url: "http://127.0.0.1:8000",
  gateway: "https://retrieval.example.com",
  "gateway-api-key": "$KEY",
  model: "BAAI/bge-large-zh-v1.5",
  "model-id": "BAAI/bge-large-zh-v1.5",
  task: "embed",
  dims: "1024",
  normalized: "true",
  "slo-p99": "300",
  stack: "dev",
  "stack-outputs": "out/dev/outputs.json",
  "api-key": "$RETRIEVAL_API_KEY",
  requests: "100",
  concurrency: "4",
  timeout: "300",
  "request-timeout": "30",
  retries: "2",
  "min-mrr": "0.75",
};

/**
 * The flags and the command word. "verify" is the only command and may be left out (`npm run verify -- ...`
 * runs this file without it). Under npm, bare words plus flags that npm kept for itself mean a forgotten `--`.
 */
function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): Flags {
  const tookByNpm = flagsNpmTook(FLAGS, env);
  let parsed;
  try {
    parsed = parseCommandLine(argv, FLAGS, EXAMPLES);
  } catch (error) {
    if (error instanceof UsageError && tookByNpm.length) throw forgotDashDash(tookByNpm, argv);
    throw error;
  }
  const words = parsed.positionals[0] === "verify" ? parsed.positionals.slice(1) : parsed.positionals;
  if (words.length) {
    if (tookByNpm.length) throw forgotDashDash(tookByNpm, argv);
    const guess = closest(words[0]!, ["verify"]);
    throw new UsageError(
      `unexpected argument "${words.join(" ")}"${guess && guess !== words[0] ? ' (did you mean "verify"?)' : ""}: every setting is a --flag`,
    );
  }
  if (tookByNpm.length && Object.keys(parsed.values).length === 0) throw forgotDashDash(tookByNpm, argv);
  return parsed.values;
}

function forgotDashDash(flags: readonly string[], argv: readonly string[]): UsageError {
  const shown = flags.map((f) => `--${f}`).join(", ");
  return new UsageError(
    `npm kept ${shown} for itself (did you forget "--"?): write npm run verify -- ${flags.map((f) => `--${f} ...`).join(" ")}${argv.length ? ` (npm passed on only: ${argv.join(" ")})` : ""}`,
  );
}

function number(flags: Flags, name: keyof Flags, check: (n: number) => boolean, what: string): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(n) || !check(n))
    throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
  return n;
}

const positiveInt = (n: number) => Number.isInteger(n) && n > 0;

/** Options from flags over a base (the stack's verification config, or the defaults). */
function optionsFrom(flags: Flags, base: Omit<VerifyOptions, "apiKey">, env: NodeJS.ProcessEnv): VerifyOptions {
  const minMrr = number(flags, "min-mrr", (n) => n >= 0 && n <= 1, "a number between 0 and 1");
  return {
    ...base,
    requests: number(flags, "requests", positiveInt, "a positive integer") ?? base.requests,
    concurrency: number(flags, "concurrency", positiveInt, "a positive integer") ?? base.concurrency,
    timeoutSeconds: number(flags, "timeout", (n) => n > 0, "a positive number of seconds") ?? base.timeoutSeconds,
    requestTimeoutSeconds:
      number(flags, "request-timeout", (n) => n > 0, "a positive number of seconds") ?? base.requestTimeoutSeconds,
    maxRetries:
      number(flags, "retries", (n) => Number.isInteger(n) && n >= 0 && n <= 10, "an integer from 0 to 10") ??
      base.maxRetries,
    quality: { enabled: flags.quality ?? base.quality.enabled, minMrrAt10: minMrr ?? base.quality.minMrrAt10 },
    ...(flags["no-limit-checks"]
      ? {
          publicPathLimits: {
            ...(base.publicPathLimits ?? DEFAULT_PUBLIC_PATH_LIMITS),
            bodySize: false,
            rateLimit: false,
          },
        }
      : {}),
    apiKey: flags["api-key"] ?? env.RETRIEVAL_API_KEY,
    ...(flags["gateway-api-key"] ? { gatewayApiKey: flags["gateway-api-key"] } : {}),
  };
}

/** The dialect name for --engine/--dialect: an engine's comes from its adapter; "openai" and others by name. */
function dialectFor(flags: Flags): string {
  if (flags.dialect !== undefined) {
    if (!dialectNamed(flags.dialect))
      throw new UsageError(`--dialect must be one of ${Object.keys(DIALECTS).join(", ")}, got "${flags.dialect}"`);
    return flags.dialect;
  }
  if (flags.engine === undefined) throw new UsageError("--engine is required (or --dialect, --gateway or --stack)");
  const engine = EngineName.safeParse(flags.engine);
  if (engine.success) return adapterFor(engine.data).dialect.name;
  if (dialectNamed(flags.engine)) return flags.engine;
  throw new UsageError(
    `--engine must be one of ${[...EngineName.options, "openai"].join(", ")}, got "${flags.engine}"`,
  );
}

function singleTarget(flags: Flags): VerifyTargetInput {
  const gateway = flags.gateway !== undefined;
  if (gateway)
    for (const f of ["url", "engine", "dialect"] as const)
      if (flags[f] !== undefined)
        throw new UsageError(
          `--gateway and --${f} exclude each other: --gateway is the base URL, its dialect is openai`,
        );
  for (const f of [gateway ? "gateway" : "url", "model", "task"] as const)
    if (flags[f] === undefined) throw new UsageError(`--${f} is required`);
  const task = Task.safeParse(flags.task);
  if (!task.success) throw new UsageError(`--task must be embed or rerank, got "${flags.task}"`);
  const modelId = flags["model-id"] ?? flags.model!;
  const spec = lookupModel(modelId);
  if (flags.normalized !== undefined && !["true", "false"].includes(flags.normalized))
    throw new UsageError(`--normalized must be true or false, got "${flags.normalized}"`);
  return {
    name: flags.model!,
    kind: gateway ? "gateway" : "engine",
    url: gateway ? flags.gateway! : flags.url!,
    dialect: gateway ? GATEWAY_DIALECT : dialectFor(flags),
    task: task.data,
    servedModel: flags.model!,
    modelId: spec ? modelId : flags["model-id"],
    dims: number(flags, "dims", positiveInt, "a positive integer") ?? spec?.dims,
    normalized: flags.normalized !== undefined ? flags.normalized === "true" : (spec?.normalized ?? false),
    sloP99Ms: number(flags, "slo-p99", (n) => n > 0, "a positive number of milliseconds"),
  };
}

function readStackOutputs(flags: Flags, stdin: () => string): unknown {
  const source = flags["stack-outputs"];
  let text: string;
  if (source === "-") text = stdin();
  else if (source !== undefined) {
    try {
      text = readFileSync(source, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(
        `cannot read --stack-outputs ${source}: ${code === "ENOENT" ? "no such file" : (code ?? (error as Error).message)}${code === "ENOENT" ? " (write it with: pulumi stack output --json --show-secrets > outputs.json)" : ""}`,
        false,
      );
    }
  } else {
    try {
      text = execFileSync("pulumi", ["stack", "output", "--json", "--show-secrets", "--stack", flags.stack!], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 120_000,
      });
    } catch (error) {
      const reason =
        (error as NodeJS.ErrnoException).code === "ENOENT"
          ? "the pulumi CLI is not on PATH"
          : String((error as { stderr?: string }).stderr || (error as Error).message).trim();
      throw new UsageError(
        `cannot read the outputs of stack "${flags.stack}": ${reason}. Pass them with --stack-outputs <file|-> (from \`pulumi stack output --json --stack ${flags.stack}\`).`,
        false,
      );
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`stack outputs are not JSON: ${(error as Error).message}`, false);
  }
}

interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: () => string;
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** One stderr line per event; a multi-model run also says which model of how many starts and how it ended. */
function progressLine(e: ProgressEvent): string | undefined {
  const of = e.position && e.position.total > 1 ? `${e.position.index}/${e.position.total} ` : "";
  if (e.done) {
    if (!of) return undefined;
    const failed = e.done.checks.filter((c) => c.status === "fail").map((c) => c.check);
    return `[${of}${e.target}] ${e.done.pass ? "PASS" : `FAIL (${failed.join(", ")})`}: ${e.done.checks.length} checks in ${seconds(e.done.ms)}`;
  }
  if (e.message) return `[${e.target}] ${e.message}`;
  if (!e.check) return `[${of}${e.target}] verifying...`;
  const c = e.check;
  return `[${e.target}] ${c.check}: ${c.status.toUpperCase()} (${Math.round(c.ms)} ms)${c.status === "fail" ? ` - got ${c.got}` : ""}`;
}

/** Runs the CLI; returns the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let flags: Flags;
  try {
    flags = parseCli(argv, io.env);
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (flags.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  let targets: VerifyTargetInput[];
  let options: VerifyOptions;
  try {
    if (flags.stack !== undefined || flags["stack-outputs"] !== undefined) {
      const fromStack = targetsFromStackOutputs(readStackOutputs(flags, io.stdin), flags["in-cluster"] ?? false);
      targets = fromStack.targets;
      options = optionsFrom(flags, fromStack.options, io.env);
      if (options.apiKey === undefined && fromStack.apiKey) options = { ...options, apiKey: fromStack.apiKey };
      if (options.gatewayApiKey === undefined && fromStack.gatewayApiKey)
        options = { ...options, gatewayApiKey: fromStack.gatewayApiKey };
      if (targets.length === 0) throw new UsageError("the stack exports no models to verify");
    } else {
      targets = [singleTarget(flags)];
      options = optionsFrom(flags, DEFAULT_OPTIONS, io.env);
    }
  } catch (error) {
    const usage = error instanceof UsageError && error.showUsage ? `\n\n${USAGE}` : "";
    io.stderr(`${(error as Error).message}${usage}\n`);
    return 2;
  }
  const report: VerificationReport = await verifyAll(
    targets,
    options,
    flags.quiet
      ? undefined
      : (e) => {
          const line = progressLine(e);
          if (line) io.stderr(`${line}\n`);
        },
  );
  io.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  return report.pass ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    stdin: () => readFileSync(0, "utf8"),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `retrieval-stack verify crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 2;
    },
  );
}
