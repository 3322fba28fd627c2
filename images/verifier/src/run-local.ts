import type { Fingerprint } from "../../../components/fingerprint/fingerprint";
import { formatFailures, formatReport } from "./report";
import { DEFAULT_OPTIONS, type VerifyOptions } from "../../../components/contracts/verify-target";
import { verifyAll } from "./verify";
import { judgePromotion, promotionsBetween } from "../../../components/fingerprint/promotion";
import { readEvidence } from "../../../components/fingerprint/prometheus-reader";
import type { LocalVerificationInputs } from "../../../components/contracts/stack-outputs";
import { withRecords, type FingerprintRecord } from "../../../components/fingerprint/schema";

export class VerificationFailed extends Error {
  override readonly name = "VerificationFailed";
}

/**
 * The body of the local mode's create/update: runs every check and throws VerificationFailed with the whole
 * table (Pulumi prints it as the resource's error and `pulumi up` fails). Returns a one-line summary otherwise.
 */
export async function runLocalVerification(
  inputs: LocalVerificationInputs,
  log: (line: string) => void = () => {},
  recorded: Readonly<Record<string, unknown>> = {},
): Promise<{ summary: string; checks: number; fingerprints: Record<string, Fingerprint> }> {
  const options: VerifyOptions = {
    ...DEFAULT_OPTIONS,
    ...inputs.options,
    apiKey: inputs.apiKey,
    gatewayApiKey: inputs.gatewayApiKey,
  };
  // Each model's own record (the resource's state), and for an alias switched to a model, the record of the model
  // it switched from.
  const targets = withRecords(inputs.targets, recorded as FingerprintRecord);
  const report = await verifyAll(targets, options, (e) =>
    e.message ? log(`[${e.target}] ${e.message}`) : e.check && log(`[${e.target}] ${e.check.check}: ${e.check.status}`),
  );
  if (!report.pass) {
    throw new VerificationFailed(
      `post-deploy verification failed:\n${formatFailures(report)}\n\n${formatReport(report)}`,
    );
  }
  const checks = report.targets.reduce((n, t) => n + t.checks.length, 0);
  const fingerprints = Object.fromEntries(
    report.targets.flatMap((t) => (t.fingerprint ? [[t.name, t.fingerprint] as const] : [])),
  );
  return {
    fingerprints,
    summary: `${report.targets.length} model(s), ${checks} checks passed in ${Math.round(report.ms)} ms`,
    checks,
  };
}

/**
 * The promotion gate of one deploy: every rerank share raised and every embedding alias switched since the
 * previous deploy (`before`, from the resource's state) must have its evidence in Prometheus. Throws
 * VerificationFailed naming the numbers; returns the verdict lines (also when overridden).
 */
export async function runPromotionGate(
  before: LocalVerificationInputs["promotion"],
  now: LocalVerificationInputs["promotion"],
  at?: Date,
): Promise<string[]> {
  if (!now || !before) return [];
  const promotions = promotionsBetween(before.aliases, now.aliases, (m) => now.tasks[m]);
  if (promotions.length === 0) return [];
  if (!now.prometheusUrl && !now.override)
    throw new VerificationFailed(
      `promotion gate: ${promotions.map((p) => `alias ${p.alias}: ${p.change}`).join("; ")} needs evidence from Prometheus, and verification.promotion.prometheusUrl is not set. Fix: set it to a Prometheus this machine reaches (e.g. a port-forward), or in an emergency set verification.promotion.override.`,
    );
  const verdicts = [];
  for (const p of promotions) {
    const evidence = now.prometheusUrl ? await readEvidence(now.prometheusUrl, p, now.gate, at) : {};
    verdicts.push(judgePromotion(p, now.gate, evidence, now.override));
  }
  const failed = verdicts.filter((v) => !v.pass);
  if (failed.length)
    throw new VerificationFailed(
      `promotion gate failed:\n${failed.map((v) => `${v.message}\n  ${v.lines.join("\n  ")}`).join("\n")}`,
    );
  return verdicts.map((v) => v.message);
}
