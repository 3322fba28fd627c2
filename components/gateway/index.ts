export * from "./gateway";
export * from "./runtime-config";
export * from "./runtime-config-from-stack";
