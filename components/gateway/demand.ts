/**
 * The gateway's demand signal for a model's KEDA ScaledObject (ModelService `demandQuery`): requests it holds
 * because the model has no ready pod (retrieval_gateway_waiting_requests, images/gateway/src/wake-queue.ts). Above 0
 * it wakes a scale-to-zero model; the count per replica then adds pods like the in-flight trigger.
 */
export const WAITING_METRIC = "retrieval_gateway_waiting_requests";

export function gatewayWaitingQuery(model: string): string {
  return `sum(${WAITING_METRIC}{model="${model}"}) or vector(0)`;
}
