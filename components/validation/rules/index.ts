import type { PlatformConfig } from "../../config/schema";
import type { Rule, RuleProblem } from "./types";
import { clusterRules } from "./cluster";
import { modelRules } from "./models";
import { ingressRules } from "./ingress";
import { observabilityRules } from "./observability";
import { verificationRules } from "./verification";
import { gatewayRules } from "./gateway";
import { imagesRules } from "./images";
import { gatewayKeyRules } from "./gateway-keys";
import { capacityRules } from "./capacity";
import { costRules } from "./cost";

/** Models first: their own problems (replicas.min > max) are the root causes of derived ones (GPU capacity). */
const RULES: readonly Rule[] = [
  modelRules,
  clusterRules,
  capacityRules,
  ingressRules,
  observabilityRules,
  verificationRules,
  gatewayRules,
  imagesRules,
  gatewayKeyRules,
  costRules,
];

export function crossFieldProblems(config: Partial<PlatformConfig>): RuleProblem[] {
  return RULES.flatMap((rule) => rule(config));
}

export { specOf, servedContextLength } from "./models";
