export * from "./observability";
