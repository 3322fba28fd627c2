// The library surface: what other teams import from "retrieval-stack".
export * from "./config";
export { Cluster, type ClusterArgs, type GpuNodeGroupSummary, gpuCapacity, type GpuNodeGroupCapacity } from "./cluster";
export { GpuRuntime, type GpuRuntimeArgs } from "./gpu";
export { ModelService, type ModelServiceArgs } from "./serving/model-service";
export { Observability, type ObservabilityArgs } from "./observability";
export { Ingress, type IngressArgs } from "./ingress";
export { Verification, type VerificationArgs, type VerificationTarget } from "./verification";
export { MODEL_CATALOGUE, lookupModel, type ModelSpec } from "./serving/models";
export { GPU_INSTANCE_TYPES, lookupInstanceType, type GpuInstanceType } from "./cluster/instances";
export { ENGINE_ADAPTERS, adapterFor, type EngineAdapter } from "./serving/engines";
export type * from "./serving/dialects/types";
