/**
 * F5 NGINX Ingress Controller (open source edition, image nginx/nginx-ingress), installed from its Helm chart.
 * Chart pinned in components/versions.ts (2.6.4 = controller 5.5.4). Value names from the chart's values.yaml
 * (nginx/kubernetes-ingress charts/nginx-ingress at tag v5.4.1, read 2026-12; every key re-checked at v5.5.4, 2026-12-07).
 */
import type { ServiceExposure } from "../exposure";
import { INGRESS_CONTROLLER_PODS } from "../../k8s/namespaces";
import { CHARTS } from "../../versions";

export const NGINX_INGRESS_CHART = CHARTS.nginxIngress;
export const RELEASE_NAME = "nginx-ingress";
export const INGRESS_CLASS = "nginx";
/**
 * The controller's Service (controller.service.create defaults to true): "<fullname>-<controller.name>", where the
 * fullname is the release name when it contains the chart's name ("nginx-ingress") and controller.name defaults to
 * "controller" (charts/nginx-ingress templates/_helpers.tpl nginx-ingress.controller.service.name and
 * controller-service.yaml, values.yaml, at v5.5.4 f92a24e, read 2026-12-07). The controller sets
 * `X-Forwarded-For $proxy_add_x_forwarded_for` on every proxied request unless a route overrides it
 * (internal/configs/version2/nginx.virtualserver.tmpl at v5.5.4): the gateway trusts the header from these pods.
 */
export const CONTROLLER_SERVICE = `${RELEASE_NAME}-controller`;
/**
 * Pod labels we set explicitly (controller.selectorLabels): our metrics Service and the engines' NetworkPolicies
 * select the controller's pods by them (INGRESS_CONTROLLER_PODS).
 */
export const CONTROLLER_SELECTOR: Readonly<Record<string, string>> = INGRESS_CONTROLLER_PODS.podLabels;
/** The controller's HTTP and HTTPS container ports (chart defaults controller.containerPort, values.yaml 2.5.1 and 2.6.4). */
export const CONTAINER_PORTS = { http: 80, https: 443 } as const;
/** The chart's Prometheus exporter port (prometheus.port). */
export const METRICS_PORT = 9113;
/** Seconds the NLB needs to stop sending new connections to a terminating pod (target deregistration). */
const DRAIN_SECONDS = 15;

interface ControllerValuesInput {
  readonly replicas: number;
  readonly exposure: ServiceExposure;
  readonly maxBodySize: string;
  readonly timeoutSeconds: number;
  readonly forceHttps: boolean;
  readonly certManager: boolean;
}

export function controllerValues(o: ControllerValuesInput): Record<string, unknown> {
  const spread = o.replicas > 1;
  return {
    controller: {
      kind: "deployment",
      replicaCount: o.replicas,
      ingressClass: { name: INGRESS_CLASS, create: true, setAsDefaultIngress: false },
      // VirtualServer/Policy CRDs carry the routes, API keys and rate limits; snippets stay off (no raw NGINX config from objects).
      enableCustomResources: true,
      enableSnippets: false,
      // Turns cert-manager's HTTP-01 solver Ingress into a route of our VirtualServer (same host).
      enableCertManager: o.certManager,
      // Per-upstream (= per model) latency histogram with the status code: nginx_ingress_controller_upstream_server_response_latency_ms.
      enableLatencyMetrics: true,
      // The chart reports usage to F5 by default; a production API gateway should not phone home.
      telemetryReporting: { enable: false },
      selectorLabels: { ...CONTROLLER_SELECTOR },
      config: {
        entries: {
          "client-max-body-size": o.maxBodySize,
          "proxy-connect-timeout": "10s",
          "proxy-read-timeout": `${o.timeoutSeconds}s`,
          "proxy-send-timeout": `${o.timeoutSeconds}s`,
          "server-tokens": "False",
          "ssl-protocols": "TLSv1.2 TLSv1.3",
          http2: "True",
          hsts: o.forceHttps ? "True" : "False",
          "hsts-max-age": "31536000",
          keepalive: "64",
        },
      },
      service: {
        type: o.exposure.type,
        annotations: { ...o.exposure.annotations },
        loadBalancerSourceRanges: [...o.exposure.loadBalancerSourceRanges],
        externalTrafficPolicy: o.exposure.externalTrafficPolicy,
      },
      resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
      // In-flight requests may run for timeoutSeconds (a long rerank): let them finish before the pod goes.
      terminationGracePeriodSeconds: o.timeoutSeconds + DRAIN_SECONDS + 15,
      lifecycle: { preStop: { exec: { command: ["/bin/sh", "-c", `sleep ${DRAIN_SECONDS}`] } } },
      podDisruptionBudget: spread ? { enabled: true, minAvailable: 1 } : { enabled: false },
      // A new pod first, the old one only once the new one is Ready (with IP targets: a healthy NLB target, through
      // the readiness gate of exposure.ts): the NLB never has only draining targets (chart value controller.strategy,
      // templates/controller-deployment.yaml at v5.4.1 and v5.5.4).
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      ...(spread
        ? {
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: { ...CONTROLLER_SELECTOR } },
              },
            ],
          }
        : {}),
    },
    prometheus: { create: true, port: METRICS_PORT, scheme: "http" },
  };
}
