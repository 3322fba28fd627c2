// Everything that checks a stack config against the catalogues (GPUs, models, engines, routes): the layer above
// components/config (schema, types, environments), which imports nothing of ours.
export { parsePlatformConfig, type ParseOptions } from "./parse";
export { parseStackConfig, namespaceProblems, type StackConfigInput } from "./stack-config";
export { loadPlatformConfig, secretInputs, type LoadedConfig, type SecretInputs } from "./load";
export { specOf, servedContextLength } from "./rules";
