/**
 * The gateway's demand signal for a model's KEDA ScaledObject (ModelService `demandQuery`): requests it holds
 * because the model has no ready pod (retrieval_gateway_waiting_requests, images/gateway/src/wake-queue.ts). Above 0
 * it wakes a scale-to-zero model; the count per replica then adds pods like the in-flight trigger.
 */
export const WAITING_METRIC = "retrieval_gateway_waiting_requests";

/**
 * The query a model's ScaledObject (in the models' namespace) runs against Prometheus. With `namespace` (the
 * gateway's, which Prometheus puts on every series it scrapes from there) only this stack's gateway wakes the model.
 */
export function gatewayWaitingQuery(model: string, namespace?: string): string {
  const ns = namespace ? `,namespace="${namespace}"` : "";
  return `sum(${WAITING_METRIC}{model="${model}"${ns}}) or vector(0)`;
}
