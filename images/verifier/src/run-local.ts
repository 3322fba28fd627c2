import type { Fingerprint } from "../../../components/fingerprint/fingerprint";
import { formatFailures, formatReport } from "./report";
import { DEFAULT_OPTIONS, type VerifyOptions } from "../../../components/contracts/verify-target";
import { verifyAll } from "./verify";
import type { LocalVerificationInputs } from "../../../components/contracts/stack-outputs";

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
): Promise<{ summary: string; checks: number; fingerprints: Record<string, Fingerprint> }> {
  const options: VerifyOptions = {
    ...DEFAULT_OPTIONS,
    ...inputs.options,
    apiKey: inputs.apiKey,
    gatewayApiKey: inputs.gatewayApiKey,
  };
  const report = await verifyAll(inputs.targets, options, (e) =>
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
