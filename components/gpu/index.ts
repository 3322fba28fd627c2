export * from "./gpu-runtime";
