import type { Policy, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { POLICY_CONFIG_SCHEMA, contextFromPolicyConfig, type PolicyConfigValues } from "./context";
import type { PolicyResource, PolicyRule } from "./rules/types";

/**
 * Wraps a plain rule as a CrossGuard policy. The rule stays a plain object (unit-tested directly, run offline by
 * `npm run plan`); only this adapter knows @pulumi/policy's callback shapes.
 */
export function toPulumiPolicy(rule: PolicyRule): ResourceValidationPolicy | StackValidationPolicy {
  const base: Policy = {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    remediationSteps: rule.remediation,
    configSchema: POLICY_CONFIG_SCHEMA,
  };
  if (rule.scope === "resource") {
    return {
      ...base,
      validateResource: (args, report: ReportViolation) => {
        const ctx = contextFromPolicyConfig(args.getConfig<PolicyConfigValues>());
        const resource: PolicyResource = { type: args.type, name: args.name, urn: args.urn, props: args.props };
        for (const message of rule.validate(resource, ctx)) report(message);
      },
    };
  }
  return {
    ...base,
    validateStack: (args, report: ReportViolation) => {
      const ctx = contextFromPolicyConfig(args.getConfig<PolicyConfigValues>());
      const resources: PolicyResource[] = args.resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.props,
      }));
      for (const v of rule.validate(resources, ctx)) report(v.message, v.resource.urn);
    },
  };
}
