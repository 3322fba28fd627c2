import { planPolicyReport } from "./policy";
import type { SummarySection } from "./summary";

const cell = (s: string) => s.replace(/\|/g, "\\|");

/** plan.md: which policies ran, and every advisory finding (mandatory ones fail the plan before plan.md exists). */
export const policySummary: SummarySection = ({ plan, config }) => {
  const report = planPolicyReport(plan, config);
  const count = (rule: string, level: "mandatory" | "advisory") =>
    (level === "mandatory" ? report.mandatory : report.advisory).filter((f) => f.rule === rule).length;
  const rows = report.rules.map((r) => {
    const n = count(r.name, r.enforcementLevel);
    return `| \`${r.name}\` | ${r.enforcementLevel} | ${n === 0 ? "pass" : `${n} finding(s)`} |`;
  });
  const lines = [
    "## Policies",
    "",
    `${report.rules.length} rules of the policy pack (\`policy/\`, the same that \`pulumi preview --policy-pack policy\` runs) over ${report.resourcesChecked} resources: ` +
      `**${report.mandatory.length} mandatory violation(s)**, ${report.advisory.length} advisory finding(s).`,
    "",
    "| policy | level | result |",
    "| --- | --- | --- |",
    ...rows,
  ];
  const findings = [...report.mandatory, ...report.advisory];
  if (findings.length)
    lines.push(
      "",
      "### Findings",
      "",
      ...findings.map((f) => `- \`${f.rule}\` (${f.level}) on ${cell(f.resource)}: ${f.message}`),
    );
  return lines.join("\n");
};
