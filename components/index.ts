// The library surface: what other teams import from "retrieval-stack".
export * from "./config";
export * from "./validation";
export { Cluster, type ClusterArgs, type GpuNodeGroupSummary, gpuCapacity, type GpuNodeGroupCapacity } from "./cluster";
export { GpuRuntime, type GpuRuntimeArgs } from "./gpu";
export { ModelService, MODEL_SERVICE_PORT, type ModelServiceArgs } from "./serving/model-service";
// Serving-only programs import "retrieval-stack/serving" instead (no cloud providers needed): docs/library.md.
export {
  parseModelConfig,
  DEFAULT_PEERS,
  type ModelInput,
  type ModelPeers,
  type ModelEgress,
  type PeerSelector,
} from "./serving";
export { Keda, KEDA_CHART, type KedaArgs } from "./serving/keda";
export {
  EnginePrerequisites,
  plannedPrerequisites,
  type EnginePrerequisitesArgs,
  type PlannedPrerequisite,
} from "./serving/engine-prerequisites";
export { MODEL_METRIC_LABEL, MODEL_POD_LABEL, modelSelector } from "./serving/metric-labels";
export * from "./k8s/namespaces";
export {
  Observability,
  type ObservabilityArgs,
  buildRuleGroups,
  buildAlertmanagerConfig,
  buildDashboards,
  ALERT_CATALOGUE,
  type AlertName,
} from "./observability";
export { Ingress, type IngressArgs } from "./ingress";
export { routeTable, publicBaseUrl, type ModelRoute } from "./ingress/routes";
export type { IngressControllerDriver } from "./ingress/driver";
export {
  Verification,
  type VerificationAlias,
  type VerificationArgs,
  type VerificationTarget,
  verificationHash,
  targetFor,
} from "./verification";
export { verifyAll, verifyTarget, type ProgressEvent } from "../images/verifier/src/verify";
export {
  formatReport,
  formatFailures,
  type VerificationReport,
  type TargetReport,
  type CheckResult,
  type CheckStatus,
} from "../images/verifier/src/report";
export {
  VerifyTargetSchema,
  type VerifyTarget,
  type VerifyTargetInput,
  type VerifyOptions,
} from "./contracts/verify-target";
export { targetsFromStackOutputs, STACK_OUTPUT_KEY } from "./contracts/stack-outputs";
export { MODEL_CATALOGUE, lookupModel, type ModelSpec } from "./serving/models";
export { GPU_INSTANCE_TYPES, lookupInstanceType, type GpuInstanceType } from "./cluster/instances";
export {
  ENGINE_ADAPTERS,
  adapterFor,
  type EngineAdapter,
  type EngineMetrics,
  type ModelContext,
} from "./serving/engines";
export type { EngineWorkload, EnginePrerequisite } from "./serving/engines/types";
export type * from "./serving/dialects/types";
export { DialectError } from "./serving/dialects/types";
export { DIALECTS, dialectNamed } from "./serving/dialects";
