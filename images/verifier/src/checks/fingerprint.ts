import type { CheckResult } from "../report";
import type { Fingerprint } from "../../../../components/fingerprint/fingerprint";
import { judgeAliasSwitch, judgeFingerprint, takeFingerprint } from "../../../../components/fingerprint/probe-run";
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
  let taken: Awaited<ReturnType<typeof takeFingerprint>> | undefined;
  const rows = [
    await runCheck(ctx, "fingerprint", expected, async () => {
      taken = await takeFingerprint(
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
  // Aliases switched to this model without a re-index: its answers must match the former model's record.
  for (const s of f.aliasSwitches ?? []) {
    const check = `fingerprint.alias-switch.${s.alias}`;
    const from = s.fromRecorded as Fingerprint | undefined;
    const expectedSwitch = `answers within tolerance of ${s.from}'s recorded fingerprint${from ? ` ${from.id}` : ""} (alias ${s.alias} switched from ${s.from} without a re-index)`;
    const answers = taken;
    rows.push(
      answers
        ? await runCheck(ctx, check, expectedSwitch, () => {
            const verdict = judgeAliasSwitch(s.alias, s.from, ctx.target.name, from, answers, f.tolerance);
            return { pass: verdict.pass, got: verdict.message };
          })
        : // A failed probe run is its own row; the switch still must not pass.
          await runCheck(ctx, check, expectedSwitch, () => ({
            pass: false,
            got: `alias ${s.alias}: ${ctx.target.name}'s fingerprint could not be taken (the fingerprint row says why), so nothing shows that it matches ${s.from}'s`,
          })),
    );
  }
  return rows;
}
