/**
 * Prometheus queries over the F5 NGINX Ingress Controller's (OSS) own metrics. With -enable-latency-metrics (chart
 * value controller.enableLatencyMetrics, set in chart.ts) the controller exports the histogram
 * `nginx_ingress_controller_upstream_server_response_latency_ms` labelled `upstream`, `server`, `code` (the
 * upstream's HTTP status), the upstream's `service`, `resource_type`, `resource_name`, `resource_namespace`, and
 * `pod_name` (nginx/kubernetes-ingress: internal/metrics/collectors/latency.go createLatencyLabelNames,
 * cmd/nginx-ingress main.go upstreamServerVariableLabels; a VirtualServer's upstreams carry resource_type
 * "virtualserver" and the VirtualServer's name and namespace, internal/configs; read 2026-11).
 *
 * It records one observation per response that came from an upstream (a pod): requests the edge refuses itself
 * (401, 413, 429) never reach one and are not counted, nor are requests NGINX could not send anywhere because the
 * upstream had no endpoint at all (ModelServiceDown covers that case).
 */
import type { IngressControllerMetrics } from "../driver";
import { VIRTUAL_SERVER_NAME } from "./objects";

export const UPSTREAM_LATENCY_HISTOGRAM = "nginx_ingress_controller_upstream_server_response_latency_ms";
/** The histogram's observation counter: one per upstream response, by status code. */
export const UPSTREAM_RESPONSES = `${UPSTREAM_LATENCY_HISTOGRAM}_count`;

/** The upstreams of our VirtualServer that send to one Service (the model's) in its namespace. */
function upstreamSelector(service: string, namespace: string): string {
  return `resource_type="virtualserver",resource_name="${VIRTUAL_SERVER_NAME}",resource_namespace="${namespace}",service="${service}"`;
}

export const nginxIngressMetrics: IngressControllerMetrics = {
  metricNames: [UPSTREAM_RESPONSES],
  serverErrorRatio(target, window) {
    const { failed, all } = nginxIngressMetrics.serverErrorRates(target, window);
    return `${failed} / ${all}`;
  },
  serverErrorRates({ service, namespace }, window) {
    const s = upstreamSelector(service, namespace);
    return {
      failed: `sum(rate(${UPSTREAM_RESPONSES}{${s},code=~"5.."}[${window}]))`,
      all: `sum(rate(${UPSTREAM_RESPONSES}{${s}}[${window}]))`,
    };
  },
};
