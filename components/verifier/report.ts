/** What a verification run says: one row per check, per model, and how to print it. */

export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckResult {
  /** Stable id, e.g. "embed.dims", "rerank.seed000". */
  readonly check: string;
  readonly expected: string;
  readonly got: string;
  readonly ms: number;
  /** skip: not applicable, or a prerequisite failed (that failure is its own row). */
  readonly status: CheckStatus;
}

export interface TargetReport {
  readonly name: string;
  readonly dialect: string;
  readonly url: string;
  readonly model: string;
  readonly task: string;
  readonly pass: boolean;
  readonly ms: number;
  readonly checks: readonly CheckResult[];
}

export interface VerificationReport {
  readonly pass: boolean;
  readonly startedAt: string;
  readonly ms: number;
  readonly targets: readonly TargetReport[];
}

export function targetPassed(checks: readonly CheckResult[]): boolean {
  return checks.length > 0 && checks.every((c) => c.status !== "fail");
}

const STATUS_LABEL: Record<CheckStatus, string> = { pass: "PASS", fail: "FAIL", skip: "skip" };

function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** Display width: CJK characters take two columns in a terminal. */
function width(text: string): number {
  let w = 0;
  for (const ch of text)
    w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch)
      ? 2
      : 1;
  return w;
}

function pad(text: string, to: number): string {
  return text + " ".repeat(Math.max(0, to - width(text)));
}

function clip(text: string, max: number): string {
  if (width(text) <= max) return text;
  let out = "";
  for (const ch of text) {
    if (width(out + ch) > max - 3) break;
    out += ch;
  }
  return `${out}...`;
}

/**
 * The report as plain-text tables, one per model:
 * check | expected | got | time | result. Long cells are clipped to `maxCell` columns (the JSON has them whole).
 */
export function formatReport(report: VerificationReport, maxCell = 70): string {
  const out: string[] = [];
  for (const t of report.targets) {
    out.push(
      `${t.name} (${t.model}, ${t.task}, ${t.dialect} dialect) at ${t.url}: ${t.pass ? "PASS" : "FAIL"} in ${formatMs(t.ms)}`,
    );
    const rows = [
      ["check", "expected", "got", "time", "result"],
      ...t.checks.map((c) => [
        c.check,
        clip(c.expected, maxCell),
        clip(c.got, maxCell),
        formatMs(c.ms),
        STATUS_LABEL[c.status],
      ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => width(r[i]!))));
    const line = (r: string[]) =>
      r
        .map((cell, i) => pad(cell, widths[i]!))
        .join(" | ")
        .trimEnd();
    out.push(line(rows[0]!), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.slice(1).map(line), "");
  }
  const failed = report.targets.flatMap((t) =>
    t.checks.filter((c) => c.status === "fail").map((c) => `${t.name}/${c.check}`),
  );
  out.push(
    report.pass
      ? `verification passed: ${report.targets.length} model(s), ${formatMs(report.ms)}`
      : `verification FAILED: ${failed.join(", ") || "no checks ran"}`,
  );
  return out.join("\n");
}

/** The failing rows only, whole, for error messages and the Job's termination message. */
export function formatFailures(report: VerificationReport): string {
  const lines = report.targets.flatMap((t) =>
    t.checks
      .filter((c) => c.status === "fail")
      .map((c) => `${t.name} ${c.check}: expected ${c.expected}; got ${c.got}`),
  );
  return lines.length ? lines.join("\n") : report.pass ? "all checks passed" : "no checks ran";
}
