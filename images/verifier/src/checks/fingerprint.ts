import type { CheckResult } from "../report";
import type { Fingerprint } from "../../../../components/fingerprint/fingerprint";
import { judgeFingerprint, takeFingerprint } from "../../../../components/fingerprint/probe-run";
import { runCheck, type CheckContext } from "./context";

/**
 * The model's fingerprint (#25): the fixed probes in its languages, compared with the recorded fingerprint. The
 * first run records; a drift beyond tolerance fails with what changed and the fix; a confirmed re-index makes the
 * new answers the record. The fingerprint to keep goes to ctx.found (the report carries it).
 */
export async function fingerprintChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const f = ctx.target.fingerprint;
  if (!f) return [];
  const recorded = f.recorded as Fingerprint | undefined;
  const expected = recorded
    ? `answers to the probes within tolerance of fingerprint ${recorded.id}`
    : "answers to the probes (the first verified deploy records them)";
  return [
    await runCheck(ctx, "fingerprint", expected, async () => {
      const taken = await takeFingerprint(
        ctx.client,
        ctx.target.task,
        f.key,
        ctx.target.languages,
        ctx.target.requestDimensions,
      );
      const verdict = judgeFingerprint(ctx.target.name, f.configPath, recorded, taken, f.reindexConfirmed, f.tolerance);
      if (ctx.found) ctx.found.fingerprint = verdict.keep;
      return { pass: verdict.pass, got: verdict.message };
    }),
  ];
}
