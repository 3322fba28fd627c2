import { modelsAreHighlyAvailable } from "./availability";
import { prodNodeGroupsNotSpotOnly } from "./capacity";
import { enginesStayInsideCluster } from "./exposure";
import { gpuPodsTolerateGpuTaint, gpuRequestsAreWholeGpus } from "./gpu";
import { modelWorkloadsHaveProbesAndRequests, workloadsHaveReadinessAndRequests } from "./health";
import { helmChartsArePinned, imagesArePinned } from "./images";
import { helmValuesHoldNoCredentials, noSecretsInPlainConfig } from "./secrets";
import type { PolicyRule } from "./types";

export type * from "./types";

/** Every rule of the pack, in the order `pulumi preview` and plan.md list them. */
export const POLICY_RULES: readonly PolicyRule[] = [
  gpuPodsTolerateGpuTaint,
  gpuRequestsAreWholeGpus,
  imagesArePinned,
  helmChartsArePinned,
  modelWorkloadsHaveProbesAndRequests,
  workloadsHaveReadinessAndRequests,
  enginesStayInsideCluster,
  modelsAreHighlyAvailable,
  noSecretsInPlainConfig,
  helmValuesHoldNoCredentials,
  prodNodeGroupsNotSpotOnly,
];
