import type { EngineClient } from "../client";
import type { Fingerprint } from "../../../../components/fingerprint/fingerprint";
import { describeError } from "../client";
import type { Deadline } from "../http";
import type { CheckResult, CheckStatus } from "../report";
import type { VerifyOptions, VerifyTarget } from "../../../../components/contracts/verify-target";

/** What every check sees. */
export interface CheckContext {
  readonly client: EngineClient;
  readonly target: VerifyTarget;
  readonly options: VerifyOptions;
  readonly deadline: Deadline;
  /** Called with every finished check (progress output). */
  readonly onCheck?: (result: CheckResult) => void;
  /** What checks hand back besides rows (the fingerprint to keep). */
  readonly found?: { fingerprint?: Fingerprint };
}

interface Verdict {
  readonly pass: boolean;
  readonly got: string;
  /** Overrides the expected text when it depends on what came back. */
  readonly expected?: string;
  readonly skip?: boolean;
}

/**
 * Runs one check: times it, turns any thrown error into a failing row whose "got" says what came back, and
 * refuses to start once the overall deadline has passed.
 */
export async function runCheck(
  ctx: CheckContext,
  check: string,
  expected: string,
  body: () => Promise<Verdict> | Verdict,
): Promise<CheckResult> {
  const started = performance.now();
  let result: CheckResult;
  if (ctx.deadline.expired) {
    result = {
      check,
      expected,
      got: `not run: overall timeout of ${ctx.deadline.budgetMs / 1000} s reached`,
      ms: 0,
      status: "fail",
    };
  } else {
    try {
      const v = await body();
      const status: CheckStatus = v.skip ? "skip" : v.pass ? "pass" : "fail";
      result = { check, expected: v.expected ?? expected, got: v.got, ms: performance.now() - started, status };
    } catch (error) {
      result = { check, expected, got: describeError(error), ms: performance.now() - started, status: "fail" };
    }
  }
  ctx.onCheck?.(result);
  return result;
}

/** A row for a check whose input never arrived (its own failure is reported by an earlier row). */
export function skipped(ctx: CheckContext, check: string, expected: string, because: string): CheckResult {
  const result: CheckResult = { check, expected, got: `not run: ${because}`, ms: 0, status: "skip" };
  ctx.onCheck?.(result);
  return result;
}

export function fmt(n: number, digits = 4): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}
