/**
 * The Gateway's Kubernetes objects, computed (pure: no resource is created here, Inputs pass through untouched).
 * components/gateway/gateway.ts creates what this returns; the tests read it.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import type { Environment } from "../config/common";
import type { ModelConfig } from "../config/serving";
import type { GatewayConfig } from "../config/gateway";
import type { PlatformConfig } from "../config/schema";
import { gatewayDrainSeconds, gatewayReplicas, playgroundEnabled, redisModeOf } from "../config/gateway";
import { profileOf } from "../config/environments";
import { standardLabels } from "../k8s/meta";
import {
  ENGINE_CLIENT_LABEL,
  INGRESS_CONTROLLER_PODS,
  NAMESPACE_NAME_LABEL,
  PROMETHEUS_PODS,
  PROMETHEUS_URL,
  networkPolicyPeer,
} from "../k8s/namespaces";
import { NODE_IMAGE_UID, nonRootPodSecurity, restrictedContainerSecurity } from "../k8s/pod-security";
import { ingressOnlySpec } from "../k8s/network-policies";
import type { ServiceMonitorPlan } from "../k8s/service-monitor";
import { gatewayNames, type GatewayNames } from "./names";
import type { RuntimeConfig } from "./runtime-config";
import { gatewayRuntimeConfig } from "./runtime-config-from-stack";
import { planCounterStore, storeUrl, type CounterStorePlan, STORE_PASSWORD_KEY } from "./store-plan";

export const GATEWAY_SERVICE_PORT = 80;
export const GATEWAY_CONTAINER_PORT = 8080;
/** The gateway container's name: its JSON audit lines are that container's stdout (the log stack selects it). */
export const GATEWAY_CONTAINER = "gateway";
/**
 * /metrics is served on this port only: the callers' Service does not expose it; a Service of its own
 * (`<service>-metrics`) does, for the ServiceMonitor, and the NetworkPolicy admits only the monitoring namespace.
 */
export const GATEWAY_METRICS_PORT = 9090;
const METRICS_LABEL = "retrieval-stack.io/scrape";
/** The pause before SIGTERM while endpoints drop the pod. */
const PRESTOP_SECONDS = 5;

/**
 * The container's memory limit, sized from what the server may buffer (runtime maxBytesInFlight): the heap holds
 * each buffered byte about four times at worst (the chunks, the joined string, the parsed values, the answer),
 * over a 256 MiB base (Node, the bundle, pools, metrics). V8's old space is capped at 3/4 of the limit so that the
 * collector works before the kernel's OOM killer does.
 */
export function gatewayMemoryLimitMiB(maxBytesInFlight: number): number {
  return 256 + Math.ceil((4 * maxBytesInFlight) / (1024 * 1024));
}
const CONFIG_DIR = "/etc/retrieval-gateway";
const KEYS_DIR = "/etc/retrieval-gateway-keys";

/** KEDA targets per gateway replica (one Node.js process handles thousands of req/s: docs/gateway.md, bench). */
export const GATEWAY_SCALING = { requestsPerSecondPerReplica: 500, inFlightPerReplica: 200 } as const;

export interface GatewayPlanInputs {
  /** The component's name: every object name derives from it (names.ts). */
  readonly name: string;
  readonly environment: Environment;
  readonly gateway: GatewayConfig;
  readonly models: readonly ModelConfig[];
  /** The gateway's namespace (its Deployment, Service, Redis). */
  readonly namespace: string;
  /** The models' namespace: their Services' EndpointSlices are read there (a read-only Role). */
  readonly modelsNamespace: string;
  /** ServiceMonitor and KEDA ScaledObject; without it an HPA on CPU. */
  readonly monitoring: boolean;
  /** Keys come from secrets.apiKeys (the gateway is then authenticated even when gateway.keys is empty). */
  readonly secretKeys: boolean;
  /** Startup budget per model (seconds): the default wake wait. */
  readonly startupBudgetSeconds?: Readonly<Record<string, number>>;
  /**
   * A store outside the cluster: the managed ElastiCache endpoint (components/cluster/limit-store.ts). `url` may
   * hold `$(STORE_PASSWORD)`, which Kubernetes fills from the store's Secret when `withPassword`.
   */
  readonly externalStore?: { readonly url: pulumi.Input<string>; readonly withPassword: boolean };
  /** The gateway container's image (passed through). */
  readonly image: pulumi.Input<string>;
  readonly prometheusUrl?: string;
  /** cost.refuseOverBudget: refuse keys whose monthly GPU budget is spent, learnt from the stack's Prometheus. */
  readonly refuseOverBudget?: boolean;
  /**
   * The ingress controller's Service: the gateway trusts X-Forwarded-For from the pods its EndpointSlices list
   * (a read-only Role in that namespace), besides gateway.trustedProxies. Absent: only trustedProxies.
   */
  readonly ingressProxies?: { readonly namespace: string; readonly service: string };
  /** The stack's GPU node groups: the engines' batch figures depend on the GPU (fair admission per pod). */
  readonly gpuNodeGroups?: PlatformConfig["gpuNodeGroups"];
}

type Obj = Record<string, unknown>;

export interface GatewayPlan {
  readonly names: GatewayNames;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly storeMode: "deploy" | "external" | "managed" | "memory";
  /** What the server reads from the ConfigMap (the keys live in the Secret, re-read when it changes). */
  readonly runtimeConfig: RuntimeConfig;
  /** Annotation on the pod template: a new route table rolls the pods; new keys do not. */
  readonly configHash: string;
  readonly configMap: k8s.core.v1.ConfigMapArgs;
  readonly keysSecretMetadata: { name: string; namespace: string; labels: Record<string, string> };
  readonly deployment: k8s.apps.v1.DeploymentArgs;
  /** KEDA or the HPA owns spec.replicas once either runs: Pulumi sets it at creation only. */
  readonly replicasOwnedByAutoscaler: boolean;
  readonly service: k8s.core.v1.ServiceArgs;
  /** The metrics port's Service (Prometheus only). */
  readonly metricsService: k8s.core.v1.ServiceArgs;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicyArgs;
  readonly podDisruptionBudget?: k8s.policy.v1.PodDisruptionBudgetArgs;
  readonly serviceMonitor?: ServiceMonitorPlan;
  readonly scaledObject?: k8s.apiextensions.CustomResourceArgs & { spec: Obj };
  readonly hpa?: k8s.autoscaling.v2.HorizontalPodAutoscalerArgs;
  readonly discovery: {
    readonly serviceAccount: k8s.core.v1.ServiceAccountArgs;
    readonly role: k8s.rbac.v1.RoleArgs;
    readonly roleBinding: k8s.rbac.v1.RoleBindingArgs;
    /** The same read-only Role in the ingress controller's namespace (its pods are the trusted proxies). */
    readonly proxyRole?: k8s.rbac.v1.RoleArgs;
    readonly proxyRoleBinding?: k8s.rbac.v1.RoleBindingArgs;
  };
  readonly store?: CounterStorePlan;
  readonly url: string;
}

export function gatewaySelector(names: GatewayNames): Record<string, string> {
  return { "app.kubernetes.io/name": names.base, "app.kubernetes.io/component": "gateway" };
}

/** Plans every object of a Gateway. Throws on a cloud stack without keys or JWT (before any resource exists). */
export function planGateway(i: GatewayPlanInputs): GatewayPlan {
  const g = i.gateway;
  const names = gatewayNames(i.name);
  const profile = profileOf(i.environment);
  if (profile.cloud && !i.secretKeys && Object.keys(g.keys).length === 0 && !g.jwt)
    throw new Error(
      `Gateway: ${i.environment} serves every model through the gateway and needs API keys or JWT. Fix: pulumi config set --secret apiKeys '["<key>"]', or set gateway.keys / gateway.jwt.`,
    );
  const replicas = gatewayReplicas(g, profile.minReplicasFloor);
  const maxReplicas = Math.max(replicas, g.maxReplicas);
  const mode = redisModeOf(g, replicas);
  const storeMode = i.externalStore ? (mode === "external" ? "external" : "managed") : mode;
  const namespace = i.namespace;
  const labels = standardLabels(names.base, "gateway");
  const selector = gatewaySelector(names);
  const meta = (n = names.base) => ({ name: n, namespace, labels });

  const store = storeMode === "deploy" ? planCounterStore({ names, namespace, gatewaySelector: selector }) : undefined;
  // The managed store's URL is an Output (its endpoint) and reaches the pods as REDIS_URL only.
  const redisUrl = store ? storeUrl(store.host, false) : storeMode === "external" ? g.redis.url : undefined;

  const runtime = gatewayRuntimeConfig(
    {
      models: [...i.models],
      gateway: g,
      environment: i.environment,
      ...(i.gpuNodeGroups ? { gpuNodeGroups: i.gpuNodeGroups } : {}),
    },
    i.modelsNamespace,
    {
      playground: playgroundEnabled(g, i.environment),
      ...(redisUrl ? { redisUrl } : {}),
      replicas,
      discovery: true,
      ...(i.startupBudgetSeconds ? { startupBudgetSeconds: i.startupBudgetSeconds } : {}),
      ...(i.refuseOverBudget ? { budgets: { prometheus: i.prometheusUrl ?? PROMETHEUS_URL } } : {}),
      ...(i.ingressProxies ? { proxyDiscovery: i.ingressProxies } : {}),
    },
  );
  // The keys (gateway.keys, secrets.apiKeys, our own callers') are all in the Secret, which the pods re-read: the
  // ConfigMap keeps only whether anonymous callers are admitted.
  const runtimeConfig: RuntimeConfig = {
    ...runtime,
    keys: [],
    allowAnonymous: runtime.allowAnonymous && !i.secretKeys,
  };
  const configHash = createHash("sha256").update(JSON.stringify(runtimeConfig)).digest("hex").slice(0, 12);
  // The server drains for gatewayDrainSeconds (runtime config drainTimeoutMs); the pod adds the preStop pause.
  const drainSeconds = Math.ceil(gatewayDrainSeconds(g)) + PRESTOP_SECONDS;
  const memoryMiB = gatewayMemoryLimitMiB(runtimeConfig.maxBytesInFlight);
  // With a password the store URL carries it: Kubernetes expands $(STORE_PASSWORD) from the env var before it.
  const passwordEnv =
    store || i.externalStore?.withPassword
      ? [{ name: "STORE_PASSWORD", valueFrom: { secretKeyRef: { name: names.storeAuth, key: STORE_PASSWORD_KEY } } }]
      : [];
  const storeUrlEnv = store
    ? [{ name: "REDIS_URL", value: storeUrl(store.host, false, "$(STORE_PASSWORD)") }]
    : i.externalStore
      ? [{ name: "REDIS_URL", value: i.externalStore.url }]
      : [];

  const deployment = {
    metadata: meta(),
    spec: {
      replicas,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      minReadySeconds: 5,
      revisionHistoryLimit: 5,
      template: {
        metadata: {
          // ENGINE_CLIENT_LABEL: the engines' NetworkPolicy admits the gateway's pods.
          labels: { ...labels, [ENGINE_CLIENT_LABEL]: "true" },
          // A new route table rolls the pods; keys do not (the server re-reads the mounted Secret).
          annotations: { "retrieval-stack.io/config-hash": configHash },
        },
        spec: {
          serviceAccountName: names.discovery,
          // The token reads EndpointSlices of the models' namespace (a read-only Role), nothing else.
          automountServiceAccountToken: true,
          // SIGTERM drains in-flight requests; the pod gets the longest upstream call plus margin.
          terminationGracePeriodSeconds: drainSeconds + 10,
          securityContext: nonRootPodSecurity(NODE_IMAGE_UID),
          ...(maxReplicas > 1
            ? {
                topologySpreadConstraints: [
                  {
                    maxSkew: 1,
                    topologyKey: "topology.kubernetes.io/zone",
                    whenUnsatisfiable: profile.minZones > 1 ? "DoNotSchedule" : "ScheduleAnyway",
                    labelSelector: { matchLabels: selector },
                  },
                ],
              }
            : {}),
          containers: [
            {
              name: GATEWAY_CONTAINER,
              image: i.image,
              imagePullPolicy: "IfNotPresent",
              ports: [
                { name: "http", containerPort: GATEWAY_CONTAINER_PORT, protocol: "TCP" },
                { name: "metrics", containerPort: GATEWAY_METRICS_PORT, protocol: "TCP" },
              ],
              env: [
                { name: "GATEWAY_CONFIG_FILE", value: `${CONFIG_DIR}/config.json` },
                { name: "GATEWAY_KEYS_FILE", value: `${KEYS_DIR}/keys.json` },
                { name: "PORT", value: String(GATEWAY_CONTAINER_PORT) },
                { name: "METRICS_PORT", value: String(GATEWAY_METRICS_PORT) },
                { name: "NODE_OPTIONS", value: `--max-old-space-size=${Math.floor((memoryMiB * 3) / 4)}` },
                ...passwordEnv,
                ...storeUrlEnv,
              ],
              volumeMounts: [
                { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                // Mounted as a directory (no subPath): kubelet swaps the files in place when the Secret changes.
                { name: "keys", mountPath: KEYS_DIR, readOnly: true },
              ],
              readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 5, failureThreshold: 2 },
              livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10, failureThreshold: 3 },
              // Endpoints drop the pod before it stops taking connections.
              lifecycle: { preStop: { exec: { command: ["sleep", String(PRESTOP_SECONDS)] } } },
              resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { memory: `${memoryMiB}Mi` } },
              securityContext: restrictedContainerSecurity(),
            },
          ],
          volumes: [
            { name: "config", configMap: { name: names.base } },
            { name: "keys", secret: { secretName: names.keys } },
          ],
        },
      },
    },
  };

  const sel = `namespace="${namespace}"`;
  const serviceMonitor: ServiceMonitorPlan | undefined = i.monitoring
    ? {
        metadata: meta(),
        spec: {
          selector: { matchLabels: { ...selector, [METRICS_LABEL]: "metrics" } },
          namespaceSelector: { matchNames: [namespace] },
          endpoints: [{ port: "metrics", path: "/metrics", interval: "15s" }],
        },
      }
    : undefined;
  const scaledObject = i.monitoring
    ? {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: meta(),
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: names.base },
          minReplicaCount: replicas,
          maxReplicaCount: maxReplicas,
          triggers: [
            {
              type: "prometheus",
              name: "request-rate",
              metricType: "AverageValue",
              metadata: {
                serverAddress: i.prometheusUrl ?? PROMETHEUS_URL,
                query: `sum(rate(retrieval_gateway_requests_total{${sel}}[1m]))`,
                threshold: String(GATEWAY_SCALING.requestsPerSecondPerReplica),
                ignoreNullValues: "true",
              },
            },
            {
              type: "prometheus",
              name: "in-flight",
              metricType: "AverageValue",
              metadata: {
                serverAddress: i.prometheusUrl ?? PROMETHEUS_URL,
                query: `sum(retrieval_gateway_in_flight_requests{${sel}})`,
                threshold: String(GATEWAY_SCALING.inFlightPerReplica),
                ignoreNullValues: "true",
              },
            },
          ],
        },
      }
    : undefined;
  const hpa =
    !i.monitoring && maxReplicas > replicas
      ? {
          metadata: meta(),
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: names.base },
            minReplicas: replicas,
            maxReplicas,
            metrics: [
              { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
            ],
          },
        }
      : undefined;

  const discoveryLabels = standardLabels(names.discovery, "gateway");
  // Read-only, one resource, in one namespace each: the models' (their pods) and the ingress controller's (the
  // proxies whose X-Forwarded-For is trusted).
  const sliceReader = (ns: string) => ({
    role: {
      metadata: { name: names.discovery, namespace: ns, labels: discoveryLabels },
      rules: [{ apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] }],
    },
    roleBinding: {
      metadata: { name: names.discovery, namespace: ns, labels: discoveryLabels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.discovery },
      subjects: [{ kind: "ServiceAccount", name: names.discovery, namespace }],
    },
  });
  const proxyReader =
    i.ingressProxies && i.ingressProxies.namespace !== i.modelsNamespace
      ? sliceReader(i.ingressProxies.namespace)
      : undefined;
  const discovery = {
    serviceAccount: { metadata: { name: names.discovery, namespace, labels: discoveryLabels } },
    ...sliceReader(i.modelsNamespace),
    ...(proxyReader ? { proxyRole: proxyReader.role, proxyRoleBinding: proxyReader.roleBinding } : {}),
  };

  return {
    names,
    replicas,
    maxReplicas,
    storeMode,
    runtimeConfig,
    configHash,
    configMap: { metadata: meta(), data: { "config.json": JSON.stringify(runtimeConfig, null, 2) } },
    keysSecretMetadata: meta(names.keys),
    deployment,
    replicasOwnedByAutoscaler: scaledObject !== undefined || hpa !== undefined,
    service: {
      metadata: meta(),
      spec: {
        type: "ClusterIP",
        selector,
        ports: [{ name: "http", port: GATEWAY_SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
      },
    },
    metricsService: {
      metadata: { ...meta(`${names.base}-metrics`), labels: { ...labels, [METRICS_LABEL]: "metrics" } },
      spec: {
        type: "ClusterIP",
        selector,
        ports: [{ name: "metrics", port: GATEWAY_METRICS_PORT, targetPort: "metrics", protocol: "TCP" }],
      },
    },
    networkPolicy: {
      metadata: meta(),
      spec: ingressOnlySpec(selector, [
        {
          // Each peer names a namespace AND its pods: the ingress controller's pods (not the whole ingress
          // namespace), Prometheus' pods for the metrics port only, our own callers by label.
          from: [
            networkPolicyPeer(INGRESS_CONTROLLER_PODS),
            // Our own callers in the gateway's namespace (the quality canary).
            { podSelector: { matchLabels: { [ENGINE_CLIENT_LABEL]: "true" } } },
            // The post-deploy verification Job, which runs in the models' namespace.
            ...(i.modelsNamespace !== namespace
              ? [
                  {
                    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: i.modelsNamespace } },
                    podSelector: { matchLabels: { [ENGINE_CLIENT_LABEL]: "true" } },
                  },
                ]
              : []),
          ],
          ports: [{ protocol: "TCP", port: GATEWAY_CONTAINER_PORT }],
        },
        { from: [networkPolicyPeer(PROMETHEUS_PODS)], ports: [{ protocol: "TCP", port: GATEWAY_METRICS_PORT }] },
      ]),
    },
    ...(replicas >= 2
      ? { podDisruptionBudget: { metadata: meta(), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } } }
      : {}),
    ...(serviceMonitor ? { serviceMonitor } : {}),
    ...(scaledObject ? { scaledObject } : {}),
    ...(hpa ? { hpa } : {}),
    discovery,
    ...(store ? { store } : {}),
    url: `http://${names.base}.${namespace}.svc.cluster.local`,
  };
}
