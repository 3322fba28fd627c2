// Everything that checks a stack config against the catalogues (GPUs, models, engines, routes): the layer above
// components/config (schema, types, environments), which imports nothing of ours.
export { parsePlatformConfig, type ParseOptions } from "./parse";
export { loadPlatformConfig, secretInputs, type LoadedConfig, type SecretInputs } from "./load";
export { specOf, servedContextLength } from "./rules";
