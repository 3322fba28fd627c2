export * from "./gateway";
export * from "./runtime-config";
