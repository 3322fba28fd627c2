// "retrieval-stack/serving": model serving as a library, for a program that deploys models into a cluster it already
// has. Needs only @pulumi/pulumi and @pulumi/kubernetes at run time (no @pulumi/aws, awsx, eks or docker: those are
// for the Cluster and Verification components of the package root). docs/library.md documents every argument.
export {
  ModelService,
  modelContext,
  scaleToZeroProblems,
  MODEL_SERVICE_PORT,
  SCRAPE_INTERVAL,
  type ModelServiceArgs,
} from "./model-service";
export { parseModelConfig, argumentsError } from "./arguments";
export {
  modelProblems,
  specOf,
  gpuInstanceOf,
  type ModelInput,
  type GpuPlacement,
  type ArgumentProblem,
} from "./context";
export {
  DEFAULT_PEERS,
  DEFAULT_HUB_EGRESS,
  DEFAULT_DNS_PEERS,
  NON_PUBLIC_CIDRS,
  planNetworkPolicy,
  type ModelPeers,
  type PeerSelector,
  type ModelEgress,
  type EgressTarget,
} from "./network-policy";
export { planService, planServiceMonitor, METRICS_SERVICE_LABEL } from "./service";
export { planDeployment, planInferenceService, awaitTimeouts, podReadySeconds } from "./workload";
export { planPod, cacheDirectoryOf, NODE_CACHE_PATH, type PodPlan } from "./pod";
export { Keda, KEDA_CHART, type KedaArgs } from "./keda";
export {
  EnginePrerequisites,
  plannedPrerequisites,
  type EnginePrerequisitesArgs,
  type PlannedPrerequisite,
} from "./engine-prerequisites";
export { MODEL_METRIC_LABEL, MODEL_POD_LABEL, modelSelector } from "./metric-labels";
export { MODEL_CATALOGUE, lookupModel, type ModelSpec } from "./models";
export { ENGINE_ADAPTERS, adapterFor, type EngineAdapter, type EngineMetrics, type ModelContext } from "./engines";
export type { EngineWorkload, EnginePrerequisite } from "./engines/types";
export { GPU_INSTANCE_TYPES, lookupInstanceType, type GpuInstanceType } from "../cluster/instances";
export { ModelConfigSchema, type ModelConfig } from "../config/serving";
export type { Environment, EngineName, Task } from "../config/common";
