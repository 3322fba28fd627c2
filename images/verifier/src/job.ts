/**
 * Entry point of the in-cluster verification Job (images/verifier): reads what to verify from the mounted
 * ConfigMap, the API key from the environment, runs every check, prints progress and the table to the log,
 * writes the failures to the termination message (what `kubectl describe pod` and the Job's events show) and
 * exits 0 or 1. `pulumi up` awaits the Job: a failed Job fails the deploy.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { formatFailures, formatReport } from "./report";
import {
  JOB_CONFIG_DIR,
  JOB_CONFIG_KEY,
  JobConfigSchema,
  type JobConfig,
} from "../../../components/contracts/stack-outputs";
import { verifyAll, type ProgressEvent } from "./verify";

/** Kubernetes keeps at most 4096 bytes of a termination message. */
const TERMINATION_MESSAGE_MAX = 4096;

interface JobIo {
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

/** Runs the Job; returns the exit status (0 pass, 1 a check failed, 2 the config could not be read). */
export async function runJob(io: JobIo): Promise<number> {
  const configPath = io.env.VERIFY_CONFIG_FILE ?? `${JOB_CONFIG_DIR}/${JOB_CONFIG_KEY}`;
  const terminationLog = io.env.VERIFY_TERMINATION_LOG ?? "/dev/termination-log";
  let config: JobConfig;
  try {
    const parsed = JobConfigSchema.safeParse(JSON.parse(readFileSync(configPath, "utf8")));
    if (!parsed.success)
      throw new Error(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    config = parsed.data;
  } catch (error) {
    const message = `verification config ${configPath} unreadable: ${(error as Error).message}`;
    io.log(message);
    writeTermination(terminationLog, message);
    return 2;
  }
  const options = {
    ...config.options,
    apiKey: io.env.VERIFY_API_KEY || undefined,
    gatewayApiKey: io.env.VERIFY_GATEWAY_API_KEY || undefined,
  };
  const targets = config.targets.map(({ publicUrl: _public, ...t }) => t);
  const report = await verifyAll(targets, options, (e) => io.log(progressLine(e)));
  io.log(formatReport(report));
  io.log(`REPORT_JSON ${JSON.stringify(report)}`);
  writeTermination(terminationLog, formatFailures(report));
  return report.pass ? 0 : 1;
}

function progressLine(e: ProgressEvent): string {
  if (e.done)
    return `[${e.target}] ${e.done.pass ? "PASS" : "FAIL"} (${e.position?.index ?? 1}/${e.position?.total ?? 1} models)`;
  if (e.message) return `[${e.target}] ${e.message}`;
  if (!e.check) return `[${e.target}] verifying...`;
  return `[${e.target}] ${e.check.check}: ${e.check.status.toUpperCase()} ${e.check.status === "fail" ? `- expected ${e.check.expected}; got ${e.check.got}` : ""}`;
}

function writeTermination(path: string, message: string): void {
  const bytes = Buffer.from(message, "utf8");
  const text =
    bytes.length <= TERMINATION_MESSAGE_MAX
      ? message
      : `${bytes.subarray(0, TERMINATION_MESSAGE_MAX - 40).toString("utf8")}\n... (full report in the pod log)`;
  try {
    writeFileSync(path, text);
  } catch {
    // Outside Kubernetes there is no termination log: the pod log has everything.
  }
}

if (require.main === module) {
  runJob({ env: process.env, log: (line) => process.stdout.write(`${line}\n`) }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `verification Job crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 2;
    },
  );
}
