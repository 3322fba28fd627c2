import type { Fingerprint } from "../../../components/fingerprint/fingerprint";
/** What a verification run says: one row per check, per model, and how to print it. */

export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckResult {
  /** Stable id, e.g. "embed.dims", "rerank.best-first". */
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
  /** The fingerprint to keep on record after this run (when the target asked for one and it was taken). */
  readonly fingerprint?: Fingerprint;
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

/**
 * A cell as lines of at most `max` columns: broken at spaces where it can, inside a word (a URL) where it must.
 * Nothing is cut: a long "got" (a refused connection's URL and reason) stays whole on more lines.
 */
function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = "";
  const push = () => {
    lines.push(line.trimEnd());
    line = "";
  };
  for (const word of text.split(/(?<= )/)) {
    if (width(line + word.trimEnd()) <= max) {
      line += word;
      continue;
    }
    if (line) push();
    let rest = word;
    while (width(rest.trimEnd()) > max) {
      let head = "";
      for (const ch of rest) {
        if (width(head + ch) > max) break;
        head += ch;
      }
      lines.push(head);
      rest = rest.slice(head.length);
    }
    line = rest;
  }
  if (line || lines.length === 0) push();
  return lines;
}

/**
 * The report as plain-text tables, one per model:
 * check | expected | got | time | result. Long cells wrap onto more lines of at most `maxCell` columns.
 */
export function formatReport(report: VerificationReport, maxCell = 70): string {
  const out: string[] = [];
  for (const t of report.targets) {
    out.push(
      `${t.name} (${t.model}, ${t.task}, ${t.dialect} dialect) at ${t.url}: ${t.pass ? "PASS" : "FAIL"} in ${formatMs(t.ms)}`,
    );
    const header = ["check", "expected", "got", "time", "result"];
    // Each check: its cells as lines; the row takes as many lines as its longest cell.
    const rows = t.checks.map((c) => [
      [c.check],
      wrap(c.expected, maxCell),
      wrap(c.got, maxCell),
      [formatMs(c.ms)],
      [STATUS_LABEL[c.status]],
    ]);
    const widths = header.map((h, i) => Math.max(width(h), ...rows.flatMap((r) => r[i]!.map(width))));
    const line = (r: string[]) =>
      r
        .map((cell, i) => pad(cell, widths[i]!))
        .join(" | ")
        .trimEnd();
    out.push(line(header), widths.map((w) => "-".repeat(w)).join("-|-"));
    for (const r of rows) {
      const height = Math.max(...r.map((cell) => cell.length));
      for (let k = 0; k < height; k++) out.push(line(r.map((cell) => cell[k] ?? "")));
    }
    out.push("");
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
