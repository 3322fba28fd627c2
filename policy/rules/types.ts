import type { Environment } from "../../components/config/common";

/**
 * A resource as a policy sees it: the Pulumi type token and the inputs the program registered. This is the shape
 * `@pulumi/policy` hands to `validateResource` (args.type, args.props) and the shape the offline runtime records
 * (plan/offline.ts RecordedResource, plan/render.ts), so one rule serves `pulumi preview` and `npm run plan`.
 */
export interface PolicyResource {
  readonly type: string;
  readonly name: string;
  readonly urn?: string;
  readonly props: Record<string, unknown>;
}

/** What a rule needs to know about the stack it checks; built from the environment profile (context.ts). */
export interface PolicyContext {
  readonly environment: Environment;
  /** Fewest replicas a model may run with (profile.minReplicasFloor). >= 2 switches the availability rule on. */
  readonly minReplicas: number;
  /** Fewest zones the environment spreads over (profile.minZones). >= 2 demands a zone topology spread. */
  readonly minZones: number;
  /** Spot-only capacity needs an explicit opt-in (profile.spotNeedsOptIn). */
  readonly spotNeedsOptIn: boolean;
  /** GPU node groups whose config sets allowSpotInProd: true. */
  readonly spotOptInNodeGroups: readonly string[];
}

/**
 * mandatory: `pulumi preview/up` and `npm run plan` fail. advisory: reported (plan.md, preview output), never blocks.
 * Each rule says why it has its level in `rationale`.
 */
export type RuleLevel = "mandatory" | "advisory";

interface RuleBase {
  /** Unique, kebab-case; the policy name `pulumi preview` prints. */
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: RuleLevel;
  /** Why this level: what breaks (mandatory) or why a human must judge (advisory). */
  readonly rationale: string;
  /** What to change when the rule fires. */
  readonly remediation: string;
}

/** Checks one resource at a time; returns one message per violation (empty: compliant or not applicable). */
export interface ResourceRule extends RuleBase {
  readonly scope: "resource";
  validate(resource: PolicyResource, ctx: PolicyContext): string[];
}

export interface StackViolation {
  readonly resource: PolicyResource;
  readonly message: string;
}

/** Checks relations between resources (a Deployment and its PDB); sees every resource of the stack. */
export interface StackRule extends RuleBase {
  readonly scope: "stack";
  validate(resources: readonly PolicyResource[], ctx: PolicyContext): StackViolation[];
}

export type PolicyRule = ResourceRule | StackRule;
