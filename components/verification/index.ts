export * from "./verification";
