export * from "./cluster";
export * from "./limit-store";
