import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { Environment } from "../config/common";
import type { ModelConfig } from "../config/serving";
import type { GatewayConfig } from "../config/gateway";
import { gatewayDrainSeconds, gatewayReplicas, playgroundEnabled, redisModeOf } from "../config/gateway";
import { profileOf } from "../config/environments";
import { childOptions, standardLabels } from "../k8s/meta";
import { IMAGES } from "../versions";
import { GATEWAY_IMAGE, ProjectImage } from "../build/project-image";
import {
  ENGINE_CLIENT_LABEL,
  INGRESS_NAMESPACE,
  MODELS_NAMESPACE,
  MONITORING_NAMESPACE,
  NAMESPACE_NAME_LABEL,
  PROMETHEUS_URL,
} from "../k8s/namespaces";
import { gatewayRuntimeConfig, type RuntimeConfig, type RuntimeKey } from "./runtime-config";
import { NODE_IMAGE_UID, nonRootPodSecurity, restrictedContainerSecurity } from "../k8s/pod-security";

/** The gateway's Service: name and port the ingress routes /v1/* to. */
export const GATEWAY_SERVICE = "retrieval-gateway";
export const GATEWAY_SERVICE_PORT = 80;
export const GATEWAY_CONTAINER_PORT = 8080;
/**
 * /metrics is served on this port only: the callers' Service (GATEWAY_SERVICE) does not expose it; a Service of
 * its own (`<service>-metrics`) does, for the ServiceMonitor, and the NetworkPolicy admits only the monitoring
 * namespace to it.
 */
export const GATEWAY_METRICS_PORT = 9090;
const METRICS_LABEL = "retrieval-stack.io/scrape";

/**
 * The container's memory limit, sized from what the server may buffer (runtime maxBytesInFlight): the heap holds
 * each buffered byte about four times at worst (the chunks, the joined string, the parsed values, the answer),
 * over a 256 MiB base (Node, the bundle, pools, metrics). V8's old space is capped at 3/4 of the limit so that the
 * collector works before the kernel's OOM killer does.
 */
export function gatewayMemoryLimitMiB(maxBytesInFlight: number): number {
  return 256 + Math.ceil((4 * maxBytesInFlight) / (1024 * 1024));
}
/** The gateway container's name: its JSON audit lines are that container's stdout (the log stack selects it). */
export const GATEWAY_CONTAINER = "gateway";
const CONFIG_DIR = "/etc/retrieval-gateway";
/** The pause before SIGTERM while endpoints drop the pod. */
const PRESTOP_SECONDS = 5;
const KEYS_DIR = "/etc/retrieval-gateway-keys";

/**
 * Redis for the shared limit counters: the official image (Bitnami's free images ended in 2025), pinned in
 * components/versions.ts. Counters only: no persistence, a restart resets the day's counts (docs/gateway.md).
 */
export const REDIS_IMAGE = `${IMAGES.redis.repository}:${IMAGES.redis.tag}`;
export const REDIS_SERVICE = "retrieval-gateway-redis";
const REDIS_PORT = 6379;

/** KEDA targets per gateway replica (one Node.js process handles thousands of req/s: docs/gateway.md, bench). */
export const GATEWAY_SCALING = { requestsPerSecondPerReplica: 500, inFlightPerReplica: 200 } as const;

export interface GatewayArgs {
  readonly provider: k8s.Provider;
  readonly environment: Environment;
  readonly gateway: GatewayConfig;
  readonly models: readonly ModelConfig[];
  /** Namespace of the gateway (the models' namespace: the engines' NetworkPolicy admits its pods by label). */
  readonly namespace?: string;
  /** secrets.apiKeys: hashed here (inside a secret Output) and named api-key-1, api-key-2, ... */
  readonly apiKeys?: pulumi.Output<string[]>;
  /**
   * Keys of the stack's own callers under a name of their own (the quality canary's, named
   * observability.canary.keyName), hashed like apiKeys: usage and quotas show their calls apart. They do not close
   * a gateway that admits anonymous callers.
   */
  readonly namedKeys?: readonly NamedKey[];
  /** ServiceMonitor and KEDA ScaledObject (their CRDs must exist); without it an HPA on CPU. */
  readonly monitoring: boolean;
  /** A prebuilt gateway image (pinned); default: built from images/gateway (pushed to ECR in cloud stacks). */
  readonly image?: pulumi.Input<string>;
  /** cost.refuseOverBudget: refuse keys whose monthly GPU budget is spent, learnt from the stack's Prometheus. */
  readonly refuseOverBudget?: boolean;
}

export interface NamedKey {
  readonly name: string;
  readonly key: pulumi.Output<string>;
}

const sha256Of = (key: string) => createHash("sha256").update(key).digest("hex");

/**
 * secrets.apiKeys (named api-key-1, api-key-2, ...) and the named keys, as key hashes: what the Secret holds (the
 * keys themselves never leave their Outputs).
 */
export function hashedKeys(
  keys: readonly string[],
  named: readonly { name: string; key: string }[] = [],
): RuntimeKey[] {
  return [
    ...keys.map((k, i) => ({ name: `api-key-${i + 1}`, sha256: [sha256Of(k)] })),
    ...named.map((n) => ({ name: n.name, sha256: [sha256Of(n.key)] })),
  ];
}

/**
 * The retrieval gateway in the cluster (docs/gateway.md): Deployment (2+ replicas spread over zones where the
 * environment needs a spare), Service, PodDisruptionBudget, KEDA ScaledObject on request rate and in-flight
 * requests (HPA on CPU without monitoring), ServiceMonitor, NetworkPolicy (ingress controller, Prometheus and
 * labelled in-namespace clients only), ConfigMap with the route table, Secret with key hashes, and Redis for the
 * limits when more than one replica shares them.
 */
export class Gateway extends pulumi.ComponentResource {
  /** In-cluster base URL, e.g. http://retrieval-gateway.retrieval.svc.cluster.local. */
  readonly url: pulumi.Output<string>;
  /** What the server reads (without the Secret's key hashes). */
  readonly runtimeConfig: RuntimeConfig;
  readonly replicas: number;
  readonly redisMode: "deploy" | "external" | "memory";
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
  /** The Service of the metrics port (Prometheus only; the callers' Service does not expose /metrics). */
  readonly metricsService: k8s.core.v1.Service;
  readonly configMap: k8s.core.v1.ConfigMap;
  readonly keysSecret: k8s.core.v1.Secret;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  readonly redis?: { readonly deployment: k8s.apps.v1.Deployment; readonly service: k8s.core.v1.Service };

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:gateway:Gateway", name, {}, opts);
    const { provider, gateway: g, environment } = args;
    const namespace = args.namespace ?? MODELS_NAMESPACE;
    const profile = profileOf(environment);
    const o = (extra: pulumi.CustomResourceOptions = {}) => childOptions(this, provider, extra);
    this.replicas = gatewayReplicas(g, profile.minReplicasFloor);
    this.redisMode = redisModeOf(g, this.replicas);
    if (profile.cloud && !args.apiKeys && Object.keys(g.keys).length === 0 && !g.jwt)
      throw new Error(
        `Gateway: ${environment} serves every model through the gateway and needs API keys or JWT. Fix: pulumi config set --secret apiKeys '["<key>"]', or set gateway.keys / gateway.jwt.`,
      );

    const labels = standardLabels(GATEWAY_SERVICE, "gateway");
    const selector = { "app.kubernetes.io/name": GATEWAY_SERVICE, "app.kubernetes.io/component": "gateway" };
    const meta = (n = GATEWAY_SERVICE) => ({ name: n, namespace, labels });

    const redisUrl =
      this.redisMode === "deploy"
        ? `redis://${REDIS_SERVICE}.${namespace}.svc.cluster.local:${REDIS_PORT}`
        : this.redisMode === "external"
          ? g.redis.url
          : undefined;
    if (this.redisMode === "deploy") this.redis = this.deployRedis(namespace, selector, o);

    this.runtimeConfig = gatewayRuntimeConfig({ models: [...args.models], gateway: g }, namespace, {
      playground: playgroundEnabled(g, environment),
      ...(redisUrl ? { redisUrl } : {}),
      ...(args.refuseOverBudget ? { budgets: { prometheus: PROMETHEUS_URL } } : {}),
    });
    // Keys from secrets.apiKeys make the gateway authenticated even when gateway.keys is empty.
    const cfg = args.apiKeys ? { ...this.runtimeConfig, allowAnonymous: false } : this.runtimeConfig;
    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: meta(), data: { "config.json": JSON.stringify(cfg, null, 2) } },
      o(),
    );
    this.keysSecret = new k8s.core.v1.Secret(
      `${name}-keys`,
      {
        metadata: meta(`${GATEWAY_SERVICE}-keys`),
        type: "Opaque",
        stringData: {
          "keys.json": pulumi.secret(
            pulumi
              .all([
                args.apiKeys ?? [],
                pulumi.all((args.namedKeys ?? []).map((n) => n.key.apply((key) => ({ name: n.name, key })))),
              ])
              .apply(([keys, named]) => JSON.stringify(hashedKeys(keys, named))),
          ),
        },
      },
      o(),
    );

    const configHash = createHash("sha256").update(JSON.stringify(cfg)).digest("hex").slice(0, 12);
    // The server drains for gatewayDrainSeconds (runtime config drainTimeoutMs); the pod adds the preStop pause.
    const drainSeconds = Math.ceil(gatewayDrainSeconds(g)) + PRESTOP_SECONDS;
    const memoryMiB = gatewayMemoryLimitMiB(this.runtimeConfig.maxBytesInFlight);
    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: meta(),
        spec: {
          replicas: this.replicas,
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          minReadySeconds: 5,
          revisionHistoryLimit: 5,
          template: {
            metadata: {
              // ENGINE_CLIENT_LABEL: the engines' NetworkPolicy admits the gateway's pods.
              labels: { ...labels, [ENGINE_CLIENT_LABEL]: "true" },
              // A new route table or key set rolls the pods (the server reads its config once, at start).
              annotations: { "retrieval-stack.io/config-hash": configHash },
            },
            spec: {
              automountServiceAccountToken: false,
              // SIGTERM drains in-flight requests; the pod gets the longest upstream call plus margin.
              terminationGracePeriodSeconds: drainSeconds + 10,
              securityContext: nonRootPodSecurity(NODE_IMAGE_UID),
              ...(this.replicas > 1
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
                  image:
                    args.image ??
                    new ProjectImage(`${name}-image`, { environment, ...GATEWAY_IMAGE }, { parent: this }).ref,
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
                  ],
                  volumeMounts: [
                    { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                    { name: "keys", mountPath: KEYS_DIR, readOnly: true },
                  ],
                  readinessProbe: {
                    httpGet: { path: "/readyz", port: "http" },
                    periodSeconds: 5,
                    failureThreshold: 2,
                  },
                  livenessProbe: {
                    httpGet: { path: "/healthz", port: "http" },
                    periodSeconds: 10,
                    failureThreshold: 3,
                  },
                  // Endpoints drop the pod before it stops taking connections.
                  lifecycle: { preStop: { exec: { command: ["sleep", String(PRESTOP_SECONDS)] } } },
                  resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { memory: `${memoryMiB}Mi` } },
                  securityContext: restrictedContainerSecurity(),
                },
              ],
              volumes: [
                { name: "config", configMap: { name: this.configMap.metadata.name } },
                { name: "keys", secret: { secretName: this.keysSecret.metadata.name } },
              ],
            },
          },
        },
      },
      o({ dependsOn: this.redis ? [this.redis.service] : [] }),
    );

    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta(),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "http", port: GATEWAY_SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
        },
      },
      o(),
    );

    this.metricsService = new k8s.core.v1.Service(
      `${name}-metrics-service`,
      {
        metadata: { ...meta(`${GATEWAY_SERVICE}-metrics`), labels: { ...labels, [METRICS_LABEL]: "metrics" } },
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "metrics", port: GATEWAY_METRICS_PORT, targetPort: "metrics", protocol: "TCP" }],
        },
      },
      o(),
    );

    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta(),
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [
                { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: INGRESS_NAMESPACE } } },
                { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: MONITORING_NAMESPACE } } },
                { podSelector: { matchLabels: { [ENGINE_CLIENT_LABEL]: "true" } } },
              ],
              ports: [{ protocol: "TCP", port: GATEWAY_CONTAINER_PORT }],
            },
            {
              from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: MONITORING_NAMESPACE } } }],
              ports: [{ protocol: "TCP", port: GATEWAY_METRICS_PORT }],
            },
          ],
        },
      },
      o(),
    );

    if (this.replicas >= 2)
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        { metadata: meta(), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
        o(),
      );

    const maxReplicas = Math.max(this.replicas, g.maxReplicas);
    if (args.monitoring) {
      new k8s.apiextensions.CustomResource(
        `${name}-servicemonitor`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "ServiceMonitor",
          metadata: meta(),
          spec: {
            selector: { matchLabels: { ...selector, [METRICS_LABEL]: "metrics" } },
            namespaceSelector: { matchNames: [namespace] },
            endpoints: [{ port: "metrics", path: "/metrics", interval: "15s" }],
          },
        },
        o(),
      );
      const sel = `namespace="${namespace}"`;
      new k8s.apiextensions.CustomResource(
        `${name}-scaledobject`,
        {
          apiVersion: "keda.sh/v1alpha1",
          kind: "ScaledObject",
          metadata: meta(),
          spec: {
            scaleTargetRef: { kind: "Deployment", name: GATEWAY_SERVICE },
            minReplicaCount: this.replicas,
            maxReplicaCount: maxReplicas,
            triggers: [
              {
                type: "prometheus",
                name: "request-rate",
                metricType: "AverageValue",
                metadata: {
                  serverAddress: PROMETHEUS_URL,
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
                  serverAddress: PROMETHEUS_URL,
                  query: `sum(retrieval_gateway_in_flight_requests{${sel}})`,
                  threshold: String(GATEWAY_SCALING.inFlightPerReplica),
                  ignoreNullValues: "true",
                },
              },
            ],
          },
        },
        o({ dependsOn: [this.deployment] }),
      );
    } else if (maxReplicas > this.replicas) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        {
          metadata: meta(),
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: GATEWAY_SERVICE },
            minReplicas: this.replicas,
            maxReplicas,
            metrics: [
              { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
            ],
          },
        },
        o({ dependsOn: [this.deployment] }),
      );
    }

    this.url = pulumi.output(`http://${GATEWAY_SERVICE}.${namespace}.svc.cluster.local`);
    this.registerOutputs({ url: this.url });
  }

  private deployRedis(
    namespace: string,
    gatewaySelector: Record<string, string>,
    o: (extra?: pulumi.CustomResourceOptions) => pulumi.CustomResourceOptions,
  ): { deployment: k8s.apps.v1.Deployment; service: k8s.core.v1.Service } {
    const labels = standardLabels(REDIS_SERVICE, "gateway-redis");
    const selector = { "app.kubernetes.io/name": REDIS_SERVICE, "app.kubernetes.io/component": "gateway-redis" };
    const meta = { name: REDIS_SERVICE, namespace, labels };
    const deployment = new k8s.apps.v1.Deployment(
      "gateway-redis",
      {
        metadata: meta,
        spec: {
          replicas: 1,
          selector: { matchLabels: selector },
          // One writer: never two at once during a rollout.
          strategy: { type: "Recreate" },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              securityContext: nonRootPodSecurity(999),
              containers: [
                {
                  name: "redis",
                  image: REDIS_IMAGE,
                  // Counters with TTLs only: no RDB/AOF, evict the keys closest to expiry if memory runs out.
                  args: [
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--maxmemory",
                    "200mb",
                    "--maxmemory-policy",
                    "volatile-ttl",
                  ],
                  ports: [{ name: "redis", containerPort: REDIS_PORT, protocol: "TCP" }],
                  readinessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 5 },
                  livenessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 10 },
                  resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "256Mi" } },
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [{ name: "data", mountPath: "/data" }],
                },
              ],
              volumes: [{ name: "data", emptyDir: { sizeLimit: "64Mi" } }],
            },
          },
        },
      },
      o(),
    );
    const service = new k8s.core.v1.Service(
      "gateway-redis",
      {
        metadata: meta,
        spec: { type: "ClusterIP", selector, ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis" }] },
      },
      o(),
    );
    new k8s.networking.v1.NetworkPolicy(
      "gateway-redis",
      {
        metadata: meta,
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ podSelector: { matchLabels: gatewaySelector } }],
              ports: [{ protocol: "TCP", port: REDIS_PORT }],
            },
          ],
        },
      },
      o(),
    );
    return { deployment, service };
  }
}
