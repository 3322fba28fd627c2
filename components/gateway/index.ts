export * from "./gateway";
export * from "./names";
export { planGateway, gatewaySelector, type GatewayPlan, type GatewayPlanInputs } from "./plan";
export { planCounterStore, storeUrl, type CounterStorePlan } from "./store-plan";
export * from "./runtime-config";
export * from "./runtime-config-from-stack";
export * from "./internal-keys";
export * from "./demand";
