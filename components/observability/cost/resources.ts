import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { derivedChild, standardLabels } from "../../k8s/meta";
import { dashboardConfigMap } from "../dashboard-configmap";
import { costDashboard } from "./dashboard";
import { buildCostRuleGroups, type CostRulesInput } from "./rules";

/** Name of the PrometheusRule with the cost recording rules and budget alerts (apart from the alerts' object). */
const COST_RULES_NAME = "retrieval-stack-cost";

/** What the stack gives the cost rules beyond the models: nodes, prices, budgets (ObservabilityArgs.cost). */
export type CostArgs = Omit<CostRulesInput, "models" | "modelsNamespace" | "runbookBaseUrl">;

/** The cost PrometheusRule and the "Usage and cost by key" dashboard, when cost.enabled. */
export function createCostObjects(
  /** The creating component's name: the resource names derive from it. */
  component: string,
  input: CostRulesInput,
  namespace: string,
  opts: pulumi.CustomResourceOptions,
): { rules: k8s.apiextensions.CustomResource; dashboard: k8s.core.v1.ConfigMap } | undefined {
  if (!input.cost.enabled) return undefined;
  const child = derivedChild(component, COST_RULES_NAME, COST_RULES_NAME);
  const rules = new k8s.apiextensions.CustomResource(
    child.name,
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: COST_RULES_NAME, namespace, labels: standardLabels(COST_RULES_NAME, "observability") },
      spec: { groups: buildCostRuleGroups(input) },
    },
    { ...opts, ...child.opts },
  );
  return { rules, dashboard: dashboardConfigMap(component, costDashboard(), namespace, opts) };
}
