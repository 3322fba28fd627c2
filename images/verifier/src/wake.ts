import type { ActiveHours } from "../../../components/config/serving";
import type { HttpDialect } from "../../../components/serving/dialects/types";
import { DialectError } from "../../../components/serving/dialects/types";
import { EngineClient, describeError } from "./client";
import { DEFAULT_RETRY, Deadline, HttpFailure, isTransientFailure } from "./http";
import type { CheckResult } from "./report";

/**
 * The wake-up phase of a scale-to-zero model (target.wakeTimeoutSeconds): outside its working hours the model has
 * no pod, and the verifier's own pod is the demand that brings one (a KEDA trigger on the verifier's label,
 * components/serving/autoscaling.ts). Before the checks, the engine's health endpoint is polled until it answers
 * HTTP 200 (and, where the dialect reads the body, reports the model ready), for at most the model's wake budget.
 * The checks' own timeout starts after this phase.
 */

/**
 * Between polls: from FIRST_POLL_MS doubling up to WAKE_POLL_MS (a model that is just finishing its start is seen
 * at once; KEDA itself looks every 15 s, and a node plus a cold start take minutes).
 */
const WAKE_POLL_MS = 5000;
const FIRST_POLL_MS = 250;
/** Between "still waiting" lines in the log. */
const WAKE_PROGRESS_EVERY_MS = 60_000;

interface WakeInputs {
  readonly name: string;
  readonly baseUrl: string;
  readonly dialect: HttpDialect;
  readonly servedModel: string;
  readonly apiKey?: string;
  readonly timeoutSeconds: number;
  /** Budget of one health call (the run's requestTimeoutSeconds). */
  readonly requestTimeoutMs: number;
  readonly activeHours?: ActiveHours;
  /** Longest time between polls (default WAKE_POLL_MS). */
  readonly pollMs?: number;
  readonly progressEveryMs?: number;
  /** Progress lines ("waiting for <model> to scale up from zero ..."). */
  readonly say?: (line: string) => void;
}

interface WakeOutcome {
  /** False when the model never answered: `row` is then the failing `health` row and no other check should run. */
  readonly awake: boolean;
  readonly row: CheckResult;
}

/** What a model on its way up from zero answers: nothing listening (no endpoints), timeouts, 5xx, "not ready" bodies. */
function stillWaking(error: unknown): boolean {
  if (error instanceof DialectError) return true; // e.g. KServe {"ready": false}, Xinference before the model is launched
  return error instanceof HttpFailure && (error.kind === "deadline" || isTransientFailure(error));
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? s.toFixed(1) : String(Math.round(s));
}

/** "activeHours 0 8 * * 1-5 to 0 20 * * 1-5 (Asia/Shanghai)", or what wakes the model when it has no schedule. */
function describeHours(hours: ActiveHours | undefined): string {
  return hours
    ? `activeHours ${hours.start} to ${hours.end} (${hours.timezone})`
    : "no activeHours: it runs only while there is demand";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Polls until the engine is healthy, answers something no wait will change, or the wake budget is spent. Never throws. */
export async function wakeUp(w: WakeInputs): Promise<WakeOutcome> {
  const started = performance.now();
  const budgetMs = w.timeoutSeconds * 1000;
  const pollMs = w.pollMs ?? WAKE_POLL_MS;
  const progressEveryMs = w.progressEveryMs ?? WAKE_PROGRESS_EVERY_MS;
  const deadline = new Deadline(budgetMs);
  // One attempt per poll: the loop is the retry.
  const client = new EngineClient(w.baseUrl, w.dialect, w.servedModel, {
    apiKey: w.apiKey,
    requestTimeoutMs: w.requestTimeoutMs,
    retry: { ...DEFAULT_RETRY, maxRetries: 0 },
    deadline,
  });
  const path = w.dialect.healthPath(w.servedModel);
  const expected = `HTTP 200 from GET ${path} within ${w.timeoutSeconds} s (scales to zero; ${describeHours(w.activeHours)})`;
  const row = (check: string, got: string, status: CheckResult["status"]): CheckResult => ({
    check,
    expected,
    got,
    ms: performance.now() - started,
    status,
  });
  let last = "no answer yet";
  let polls = 0;
  let nextProgress = progressEveryMs;
  try {
    for (;;) {
      polls++;
      try {
        await client.health();
        const waited = performance.now() - started;
        return {
          awake: true,
          row: row(
            "wake",
            polls === 1
              ? "answered at once (already running)"
              : `answered after ${seconds(waited)} s (${polls} polls): scaled up from zero`,
            "pass",
          ),
        };
      } catch (error) {
        if (!stillWaking(error)) {
          // Something answers and waiting will not change it (e.g. 404, 401): the health check says what.
          return {
            awake: true,
            row: row("wake", `not waited for: ${describeError(error)}; the health check below judges it`, "skip"),
          };
        }
        // The deadline's own abort says nothing about the engine: keep the last real answer.
        if (!(error instanceof HttpFailure && error.kind === "deadline")) last = describeError(error);
      }
      const elapsed = performance.now() - started;
      if (polls === 1)
        w.say?.(`waiting for ${w.name} to scale up from zero (up to ${w.timeoutSeconds} s; GET ${path}: ${last}) ...`);
      else if (elapsed >= nextProgress) {
        w.say?.(
          `still waiting for ${w.name} to scale up from zero: ${seconds(elapsed)} s of ${w.timeoutSeconds} s (GET ${path}: ${last})`,
        );
        nextProgress += progressEveryMs;
      }
      if (deadline.expired || deadline.remainingMs() <= 0) break;
      await sleep(Math.min(FIRST_POLL_MS * 2 ** (polls - 1), pollMs, deadline.remainingMs()));
      if (deadline.expired) break;
    }
  } finally {
    deadline.dispose();
    await client.close();
  }
  const waited = seconds(performance.now() - started);
  return {
    awake: false,
    row: row(
      "health",
      `waited ${waited} s for ${w.name}, a scaled-to-zero model (${describeHours(w.activeHours)}), and it never became healthy; last GET ${path}: ${last}. ` +
        `Look at the model's pods and events (pending on a GPU node? still loading?)${w.activeHours ? ", or deploy during its activeHours" : ""}.`,
      "fail",
    ),
  };
}
