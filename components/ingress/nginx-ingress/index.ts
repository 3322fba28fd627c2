/** The NGINX Ingress Controller driver: installs the chart and publishes the route table as its CRDs. */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { profileOf } from "../../config/environments";
import { childOptions, formerlyNamed, standardLabels } from "../../k8s/meta";
import type {
  ControllerInstallArgs,
  ControllerPublishArgs,
  EnforcedLimitsArgs,
  IngressControllerDriver,
  RouteLimits,
} from "../driver";
import { edgePage, tooLarge } from "../responses";
import { nginxSizeBytes, routeBodyLimit } from "../routes";
import { serviceExposure } from "../exposure";
import { INGRESS_CONTROLLER_PODS } from "../../k8s/namespaces";
import { ingressControllerPolicySpec } from "../../k8s/network-policies";
import {
  CONTAINER_PORTS,
  CONTROLLER_SELECTOR,
  CONTROLLER_SERVICE,
  INGRESS_CLASS,
  METRICS_PORT,
  NGINX_INGRESS_CHART,
  RELEASE_NAME,
  controllerValues,
} from "./chart";
import { nginxIngressMetrics } from "./metrics";
import {
  API_KEY_POLICY,
  API_KEY_SECRET,
  GATEWAY_RATE_LIMIT_POLICY,
  VIRTUAL_SERVER_NAME,
  apiKeyPolicySpec,
  apiKeySecretData,
  enforcedRouteLimit,
  gatewayVirtualServerRoutes,
  rateLimitPolicyName,
  rateLimitPolicySpec,
  virtualServerSpec,
} from "./objects";
import { pinnedRelease } from "../../k8s/helm";
import { createServiceMonitor } from "../../k8s/service-monitor";

/** Default controller replicas: two spread over zones in cloud stacks, one locally. */
export function controllerReplicas(args: Pick<ControllerInstallArgs, "environment" | "ingress">): number {
  return args.ingress.controllerReplicas ?? (profileOf(args.environment).cloud ? 2 : 1);
}

function install(args: ControllerInstallArgs): pulumi.Resource[] {
  const { parent, provider, ingress } = args;
  // Each resource is named after the component (two ingresses never collide); the literal name it had is its alias.
  const releaseName = `${args.name}-controller`;
  const release = pinnedRelease(
    releaseName,
    {
      name: RELEASE_NAME,
      namespace: args.namespace,
      chart: NGINX_INGRESS_CHART,
      values: controllerValues({
        replicas: controllerReplicas(args),
        exposure: serviceExposure(args.environment, ingress),
        maxBodySize: ingress.maxBodySize,
        timeoutSeconds: ingress.timeoutSeconds,
        forceHttps: profileOf(args.environment).forceHttps,
        certManager: args.certManager,
      }),
    },
    childOptions(parent, provider, { dependsOn: args.dependsOn, ...formerlyNamed(releaseName, RELEASE_NAME) }),
  );
  const netpolName = `${args.name}-controller-netpol`;
  new k8s.networking.v1.NetworkPolicy(
    netpolName,
    {
      metadata: {
        name: RELEASE_NAME,
        namespace: args.namespace,
        labels: standardLabels(RELEASE_NAME, "ingress-network-policy"),
      },
      spec: ingressControllerPolicySpec(INGRESS_CONTROLLER_PODS, { ...CONTAINER_PORTS, metrics: METRICS_PORT }),
    },
    childOptions(parent, provider, {
      dependsOn: args.dependsOn,
      ...formerlyNamed(netpolName, "ingress-controller-netpol"),
    }),
  );
  if (args.monitoring) {
    // Our own metrics Service + ServiceMonitor (instead of the chart's) so that both are schema-checked in the plan.
    const labels = standardLabels(RELEASE_NAME, "ingress-metrics");
    const metricsName = `${args.name}-metrics`;
    const svc = new k8s.core.v1.Service(
      metricsName,
      {
        metadata: { name: `${RELEASE_NAME}-metrics`, namespace: args.namespace, labels },
        spec: {
          type: "ClusterIP",
          selector: { ...CONTROLLER_SELECTOR },
          ports: [{ name: "metrics", port: METRICS_PORT, targetPort: METRICS_PORT, protocol: "TCP" }],
        },
      },
      childOptions(parent, provider, { dependsOn: [release], ...formerlyNamed(metricsName, "ingress-metrics") }),
    );
    const monitorName = `${args.name}-servicemonitor`;
    createServiceMonitor(
      monitorName,
      { name: RELEASE_NAME, namespace: args.namespace, labels },
      {
        selector: { matchLabels: labels },
        namespaceSelector: { matchNames: [args.namespace] },
        // honorLabels: the latency histogram's own `service` label (the model's Service, which the error-ratio
        // query selects on) must win over the target label `service` (this metrics Service) that the Prometheus
        // Operator adds; otherwise Prometheus renames it to `exported_service`. No controller metric carries
        // job, instance, namespace, pod or endpoint labels, so nothing else changes.
        endpoints: [{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s", honorLabels: true }],
      },
      childOptions(parent, provider, { dependsOn: [svc], ...formerlyNamed(monitorName, "ingress-servicemonitor") }),
    );
  }
  return [release];
}

function publish(args: ControllerPublishArgs): pulumi.Resource[] {
  const { parent, provider, ingress } = args;
  // Each resource is named after the component (`<name>-<suffix>`); the literal name it had before is its alias.
  const named = (suffix: string, formerName: string, dependsOn: pulumi.Resource[]) => {
    const name = `${args.name}-${suffix}`;
    return { name, opts: childOptions(parent, provider, { dependsOn, ...formerlyNamed(name, formerName) }) };
  };
  const out: pulumi.Resource[] = [];
  const auth = args.apiKeys !== undefined;
  if (args.apiKeys) {
    const s = named("api-keys", "api-keys", args.dependsOn);
    const secret = new k8s.core.v1.Secret(
      s.name,
      {
        metadata: {
          name: API_KEY_SECRET,
          namespace: args.namespace,
          labels: standardLabels(API_KEY_SECRET, "ingress-auth"),
        },
        type: "nginx.org/apikey",
        // stringData from a secret Output: the keys stay encrypted in state and never appear in the plan.
        stringData: pulumi.secret(args.apiKeys.apply(apiKeySecretData)),
      },
      s.opts,
    );
    out.push(secret);
    const p = named("api-key-policy", "api-key-policy", [...args.dependsOn, secret]);
    out.push(
      new k8s.apiextensions.CustomResource(
        p.name,
        {
          apiVersion: "k8s.nginx.org/v1",
          kind: "Policy",
          metadata: {
            name: API_KEY_POLICY,
            namespace: args.namespace,
            labels: standardLabels(API_KEY_POLICY, "ingress-auth"),
          },
          spec: apiKeyPolicySpec(),
        },
        p.opts,
      ),
    );
  }
  for (const route of args.routes) {
    const policy = rateLimitPolicyName(route.model);
    const p = named(policy, policy, args.dependsOn);
    out.push(
      new k8s.apiextensions.CustomResource(
        p.name,
        {
          apiVersion: "k8s.nginx.org/v1",
          kind: "Policy",
          metadata: {
            name: policy,
            namespace: args.namespace,
            labels: standardLabels(policy, "ingress-rate-limit", { "retrieval-stack.io/model": route.model }),
          },
          spec: rateLimitPolicySpec(route, auth, controllerReplicas(args)),
        },
        p.opts,
      ),
    );
  }
  // The gateway's own namespace, when it has one: its Policy and route objects live there (objects.ts).
  const gatewayNamespace = args.gateway?.service.namespace;
  if (args.gateway) {
    const p = named(GATEWAY_RATE_LIMIT_POLICY, GATEWAY_RATE_LIMIT_POLICY, args.dependsOn);
    out.push(
      new k8s.apiextensions.CustomResource(
        p.name,
        {
          apiVersion: "k8s.nginx.org/v1",
          kind: "Policy",
          metadata: {
            name: GATEWAY_RATE_LIMIT_POLICY,
            namespace: gatewayNamespace ?? args.namespace,
            labels: standardLabels(GATEWAY_RATE_LIMIT_POLICY, "ingress-rate-limit"),
          },
          // Per client address: the gateway limits per key itself.
          spec: rateLimitPolicySpec(args.gateway, false, controllerReplicas(args)),
        },
        p.opts,
      ),
    );
  }
  const policies = [...out];
  if (args.gateway && gatewayNamespace)
    for (const r of gatewayVirtualServerRoutes({
      host: args.host,
      gateway: args.gateway,
      maxBodySize: ingress.maxBodySize,
      timeoutSeconds: ingress.timeoutSeconds,
    }))
      out.push(
        new k8s.apiextensions.CustomResource(
          `${args.name}-${r.name}`,
          {
            apiVersion: "k8s.nginx.org/v1",
            kind: "VirtualServerRoute",
            metadata: { name: r.name, namespace: gatewayNamespace, labels: standardLabels(r.name, "ingress") },
            spec: r.spec,
          },
          childOptions(parent, provider, { dependsOn: [...args.dependsOn, ...policies] }),
        ),
      );
  const routeObjects = out.slice(policies.length);
  // Policies and route objects first: a VirtualServer naming a missing policy answers 500 on that route.
  const vs = named("virtual-server", VIRTUAL_SERVER_NAME, [...args.dependsOn, ...policies, ...routeObjects]);
  out.push(
    new k8s.apiextensions.CustomResource(
      vs.name,
      {
        apiVersion: "k8s.nginx.org/v1",
        kind: "VirtualServer",
        metadata: {
          name: VIRTUAL_SERVER_NAME,
          namespace: args.namespace,
          labels: standardLabels(VIRTUAL_SERVER_NAME, "ingress"),
        },
        spec: virtualServerSpec({
          host: args.host,
          routes: args.routes,
          ...(args.gateway ? { gateway: args.gateway } : {}),
          tlsSecretName: args.tlsSecretName,
          forceHttps: profileOf(args.environment).forceHttps,
          auth,
          maxBodySize: ingress.maxBodySize,
          timeoutSeconds: ingress.timeoutSeconds,
        }),
      },
      vs.opts,
    ),
  );
  return out;
}

export const nginxIngressController: IngressControllerDriver = {
  displayName: `F5 NGINX Ingress Controller (OSS, chart ${NGINX_INGRESS_CHART.chart} ${NGINX_INGRESS_CHART.version})`,
  ingressClass: INGRESS_CLASS,
  proxyService: CONTROLLER_SERVICE,
  install,
  publish,
  metrics: nginxIngressMetrics,
  enforcedLimits,
};

function enforcedLimits(args: EnforcedLimitsArgs): { routes: Record<string, RouteLimits>; gateway: RouteLimits } {
  const replicas = controllerReplicas(args);
  const body = (size: string) => ({
    maxBodySize: size,
    maxBodyBytes: nginxSizeBytes(size),
    tooLarge: edgePage(tooLarge(size)),
  });
  return {
    routes: Object.fromEntries(
      args.routes.map((r) => [
        r.model,
        {
          ...body(routeBodyLimit(r, args.ingress.maxBodySize)),
          rateLimit: enforcedRouteLimit(r, args.auth, replicas),
        },
      ]),
    ),
    // The gateway's paths: NGINX's body-size page only (the gateway answers its own 429s).
    gateway: body(args.ingress.maxBodySize),
  };
}
