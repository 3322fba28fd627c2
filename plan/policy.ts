// The policy pack (policy/) run offline over a rendered plan: the same rules `pulumi preview --policy-pack policy`
// runs, on the same resource shape (type + inputs), so a developer sees violations before opening a PR.
import type { PlatformConfig } from "../components/config";
import { contextFromConfig } from "../policy/context";
import {
  POLICY_RULES,
  type PolicyContext,
  type PolicyResource,
  type PolicyRule,
  type RuleLevel,
} from "../policy/rules";
import type { RenderedPlan } from "./render";

export interface PolicyFinding {
  readonly rule: string;
  readonly level: RuleLevel;
  /** `<type> <name>` of the resource the violation is reported on. */
  readonly resource: string;
  readonly message: string;
}

export interface PolicyReport {
  readonly rules: readonly PolicyRule[];
  readonly resourcesChecked: number;
  readonly mandatory: readonly PolicyFinding[];
  readonly advisory: readonly PolicyFinding[];
}

/** The plan's resources as policies see them; inputs are the redacted ones, so no secret value can reach a message. */
export function policyResourcesOf(plan: RenderedPlan): PolicyResource[] {
  return plan.resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: (r.inputs ?? {}) as Record<string, unknown>,
  }));
}

/** Runs every rule; a rule that throws is reported as a mandatory finding so a policy bug cannot pass silently. */
export function runPolicies(
  resources: readonly PolicyResource[],
  ctx: PolicyContext,
  rules: readonly PolicyRule[] = POLICY_RULES,
): PolicyReport {
  const findings: PolicyFinding[] = [];
  const add = (rule: PolicyRule, r: PolicyResource, message: string, level: RuleLevel = rule.enforcementLevel) =>
    findings.push({ rule: rule.name, level, resource: `${r.type} ${r.name}`, message });
  for (const rule of rules) {
    if (rule.scope === "stack") {
      try {
        for (const v of rule.validate(resources, ctx)) add(rule, v.resource, v.message);
      } catch (e) {
        findings.push({
          rule: rule.name,
          level: "mandatory",
          resource: "(stack)",
          message: `the rule failed: ${(e as Error).message}`,
        });
      }
      continue;
    }
    for (const r of resources) {
      try {
        for (const m of rule.validate(r, ctx)) add(rule, r, m);
      } catch (e) {
        add(rule, r, `the rule failed on this resource: ${(e as Error).message}`, "mandatory");
      }
    }
  }
  return {
    rules,
    resourcesChecked: resources.length,
    mandatory: findings.filter((f) => f.level === "mandatory"),
    advisory: findings.filter((f) => f.level === "advisory"),
  };
}

const reports = new WeakMap<RenderedPlan, PolicyReport>();

/** The policy report of a plan (computed once per plan: runPlan gates on it, plan.md lists it). */
export function planPolicyReport(plan: RenderedPlan, config: PlatformConfig): PolicyReport {
  let report = reports.get(plan);
  if (!report) {
    report = runPolicies(policyResourcesOf(plan), contextFromConfig(config));
    reports.set(plan, report);
  }
  return report;
}

export const formatFinding = (f: PolicyFinding): string => `policy ${f.rule} (${f.level}): ${f.message}`;
