import type { Fingerprint } from "../../../components/fingerprint/fingerprint";
import { dialectNamed } from "../../../components/serving/dialects";
import { EngineClient } from "./client";
import { routedDialect } from "./routed";
import { DEFAULT_RETRY, Deadline } from "./http";
import { targetPassed, type CheckResult, type TargetReport, type VerificationReport } from "./report";
import {
  DEFAULT_OPTIONS,
  GATEWAY_DIALECT,
  VerifyTargetSchema,
  type VerifyOptions,
  type VerifyTarget,
  type VerifyTargetInput,
} from "../../../components/contracts/verify-target";
import type { CheckContext } from "./checks/context";
import { healthChecks } from "./checks/health";
import { embedChecks } from "./checks/embed";
import { rerankChecks } from "./checks/rerank";
import { latencyChecks } from "./checks/latency";
import { qualityChecks } from "./checks/quality";
import { fingerprintChecks } from "./checks/fingerprint";
import { gatewayChecks } from "./checks/gateway";
import { edgeChecks } from "./checks/edge";
import { wakeUp } from "./wake";

export interface ProgressEvent {
  readonly target: string;
  /** Undefined for the "starting" event of a target. */
  readonly check?: CheckResult;
  /** A progress line that is not a check (e.g. "waiting for bge to scale up from zero ..."). */
  readonly message?: string;
  /** Where this target is in a multi-model run (verifyAll): 1-based index and the number of targets. */
  readonly position?: { readonly index: number; readonly total: number };
  /** Set on the target's last event: its whole report. */
  readonly done?: TargetReport;
}

/** Grace after the deadline before the hard stop: requests are aborted at the deadline and settle quickly. */
const HARD_STOP_GRACE_MS = 2000;

/**
 * Every check for one model. Never throws and never outlives options.timeoutSeconds (plus a short grace): every
 * request is aborted at the deadline, and a hard stop reports whatever is still running as failed. A target that
 * scales to zero (wakeTimeoutSeconds) is first waited for, at most that long, before the checks' timeout starts.
 */
export async function verifyTarget(
  input: VerifyTargetInput,
  options: VerifyOptions = DEFAULT_OPTIONS,
  onProgress?: (e: ProgressEvent) => void,
): Promise<TargetReport> {
  const started = performance.now();
  const parsed = VerifyTargetSchema.safeParse(input);
  const name = parsed.success ? parsed.data.name : String((input as { name?: unknown }).name ?? "?");
  const url = `${String(input.url).replace(/\/+$/, "")}${input.route ?? ""}`;
  const base = {
    name,
    dialect: String(input.dialect),
    url,
    model: String(input.modelId ?? input.servedModel),
    task: String(input.task),
  };
  const finish = (checks: CheckResult[]): TargetReport => ({
    ...base,
    pass: targetPassed(checks),
    ms: performance.now() - started,
    checks,
  });

  if (!parsed.success) {
    return finish([
      {
        check: "target",
        expected: "a valid target",
        got: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
        ms: 0,
        status: "fail",
      },
    ]);
  }
  const target = parsed.data;
  if (target.kind === "gateway" && target.dialect !== GATEWAY_DIALECT)
    return finish([
      {
        check: "target",
        expected: `a gateway target in the "${GATEWAY_DIALECT}" dialect`,
        got: `dialect "${target.dialect}" (the gateway speaks OpenAI/Cohere shapes only)`,
        ms: 0,
        status: "fail",
      },
    ]);
  const apiKey = target.kind === "gateway" ? (options.gatewayApiKey ?? options.apiKey) : options.apiKey;
  const named = dialectNamed(target.dialect);
  const dialect = named && target.route ? routedDialect(named, target.task, target.route) : named;
  if (!dialect)
    return finish([
      {
        check: "target",
        expected: "a known dialect",
        got: `unknown dialect "${target.dialect}"`,
        ms: 0,
        status: "fail",
      },
    ]);
  if ((target.task === "embed" && !dialect.embed) || (target.task === "rerank" && !dialect.rerank)) {
    return finish([
      {
        check: "target",
        expected: `a ${target.task} endpoint`,
        got: `the ${dialect.name} dialect has no ${target.task} endpoint`,
        ms: 0,
        status: "fail",
      },
    ]);
  }

  onProgress?.({ target: target.name });
  const checks: CheckResult[] = [];
  if (target.wakeTimeoutSeconds !== undefined && !target.route) {
    const wake = await wakeUp({
      name: target.name,
      baseUrl: target.url,
      dialect,
      servedModel: target.servedModel,
      apiKey,
      timeoutSeconds: target.wakeTimeoutSeconds,
      requestTimeoutMs: options.requestTimeoutSeconds * 1000,
      activeHours: target.activeHours,
      pollMs: options.wake?.pollMs,
      progressEveryMs: options.wake?.progressEveryMs,
      say: (message) => onProgress?.({ target: target.name, message }),
    });
    checks.push(wake.row);
    onProgress?.({ target: target.name, check: wake.row });
    // Every other call would fail the same way: the one row says why.
    if (!wake.awake) return finish(checks);
  }
  const deadline = new Deadline(options.timeoutSeconds * 1000);
  const http = {
    apiKey,
    requestTimeoutMs: options.requestTimeoutSeconds * 1000,
    retry: { ...DEFAULT_RETRY, ...options.retry, maxRetries: options.maxRetries },
    deadline,
  };
  const found: { fingerprint?: Fingerprint } = {};
  const ctx: CheckContext = {
    client: new EngineClient(target.url, dialect, target.servedModel, http),
    target,
    options,
    deadline,
    found,
    onCheck: (check) => {
      checks.push(check);
      onProgress?.({ target: target.name, check });
    },
  };

  let hardStop: NodeJS.Timeout | undefined;
  const stopped = new Promise<"stopped">((resolve) => {
    hardStop = setTimeout(() => resolve("stopped"), options.timeoutSeconds * 1000 + HARD_STOP_GRACE_MS);
  });
  try {
    const outcome = await Promise.race([runAll(ctx, target), stopped]);
    if (outcome === "stopped") {
      checks.push({
        check: "deadline",
        expected: `all checks done within ${options.timeoutSeconds} s`,
        got: "checks still running at the deadline were abandoned",
        ms: 0,
        status: "fail",
      });
    }
  } finally {
    clearTimeout(hardStop);
    deadline.dispose();
    await ctx.client.close();
  }
  const report = finish([...checks]);
  return found.fingerprint ? { ...report, fingerprint: found.fingerprint } : report;
}

async function runAll(ctx: CheckContext, target: VerifyTarget): Promise<void> {
  const { healthy } = await healthChecks(ctx);
  // An engine that is not up fails every other call the same way: one clear row beats ten retried ones.
  if (!healthy) return;
  if (target.task === "embed") await embedChecks(ctx);
  else await rerankChecks(ctx);
  if (target.kind === "gateway") await gatewayChecks(ctx);
  else await fingerprintChecks(ctx);
  await latencyChecks(ctx);
  if (ctx.options.quality.enabled) await qualityChecks(ctx);
  // Last: the burst must not slow the checks above (public-path targets only).
  if (target.edge) await edgeChecks(ctx);
}

/** Every target, one after the other (a load test must not share the engine with another's checks). */
export async function verifyAll(
  targets: readonly VerifyTargetInput[],
  options: VerifyOptions = DEFAULT_OPTIONS,
  onProgress?: (e: ProgressEvent) => void,
): Promise<VerificationReport> {
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const reports: TargetReport[] = [];
  for (const [i, t] of targets.entries()) {
    const position = { index: i + 1, total: targets.length };
    const report = await verifyTarget(t, options, onProgress && ((e) => onProgress({ ...e, position })));
    onProgress?.({ target: report.name, position, done: report });
    reports.push(report);
  }
  return {
    pass: reports.length > 0 && reports.every((r) => r.pass),
    startedAt,
    ms: performance.now() - started,
    targets: reports,
  };
}
