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
import type { Fingerprint } from "../../../components/fingerprint/fingerprint";
import { inClusterKubeApi, type KubeApi } from "../../common/kube-api";
import { readRecord, writeRecord, type ReadRecord } from "./record-store";
import { runPromotionGate } from "./run-local";
import { withRecords } from "../../../components/fingerprint/schema";

/** Kubernetes keeps at most 4096 bytes of a termination message. */
const TERMINATION_MESSAGE_MAX = 4096;

interface JobIo {
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  /** The Kubernetes API holding the record (default: the pod's, from its service account). */
  readonly kubeApi?: KubeApi;
  /** When the promotion gate reads Prometheus (default: now). */
  readonly now?: Date;
  /** Where the pod's service account token and CA are (default: the kubelet's path). */
  readonly serviceAccountDir?: string;
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
  const fail = (message: string) => {
    io.log(message);
    writeTermination(terminationLog, message);
    return 1;
  };
  // The record (#25): each model's fingerprint and the last deploy's aliases, from ConfigMaps (record-store.ts).
  let read: ReadRecord | undefined;
  const api = io.kubeApi ?? inClusterKubeApi(io.env, io.serviceAccountDir);
  if (config.record) {
    if (!api)
      return fail(
        "verification record: no Kubernetes API to read the recorded fingerprints from (no service account token in this pod). Fix: run the Job as rendered by `pulumi up` (its service account has the Role), or set verification.fingerprint.enabled and verification.promotion.enabled to false",
      );
    const models = config.targets.flatMap((t) => (t.fingerprint && t.kind !== "gateway" ? [t.name] : []));
    try {
      read = await readRecord(api, config.record, models, config.promotion !== undefined);
    } catch (error) {
      return fail(`verification record unreadable: ${(error as Error).message}`);
    }
    io.log(
      `record: ${Object.keys(read.fingerprints).length} of ${models.length} model(s) have a recorded fingerprint in ${config.record.namespace}`,
    );
  }
  // Promotions first, as in local mode: a raised weight without evidence fails before anything else runs.
  if (config.promotion && read) {
    try {
      const before = read.aliases ? { ...config.promotion, aliases: read.aliases } : undefined;
      for (const line of await runPromotionGate(before, config.promotion, io.now)) io.log(`promotion gate: ${line}`);
    } catch (error) {
      return fail((error as Error).message);
    }
  }
  const recorded = read?.fingerprints ?? {};
  // In the cluster: no ingress stands in front of these URLs, so its limits are not checked.
  // Each model's own record, and for an alias switched to a model, the record of the model it switched from.
  const targets = withRecords(
    config.targets.map(({ publicUrl: _public, edge: _edge, ...t }) => t),
    recorded,
  );
  const report = await verifyAll(targets, options, (e) => io.log(progressLine(e)));
  io.log(formatReport(report));
  io.log(`REPORT_JSON ${JSON.stringify(report)}`);
  if (!report.pass) {
    writeTermination(terminationLog, formatFailures(report));
    return 1;
  }
  // Every check passed: only now does the record change (a drift never overwrites what it failed against).
  if (config.record && read && api) {
    const keep: Record<string, Fingerprint> = Object.fromEntries(
      report.targets.flatMap((t) => (t.fingerprint ? [[t.name, t.fingerprint] as const] : [])),
    );
    try {
      for (const line of await writeRecord(api, config.record, read, keep, config.promotion?.aliases))
        io.log(`record: ${line}`);
    } catch (error) {
      return fail(`verification passed, but its record could not be written: ${(error as Error).message}`);
    }
  }
  writeTermination(terminationLog, formatFailures(report));
  return 0;
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
