/**
 * The QualityCanary's Kubernetes objects, computed (pure: no resource is created here, Inputs pass through
 * untouched). components/observability/quality-canary.ts resolves the URLs it calls, creates what this returns;
 * the tests read it.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import type { CanaryConfig, ModelConfig } from "../config";
import type { FingerprintTarget } from "../fingerprint/schema";
import { fingerprintConfigMapName } from "../fingerprint/store";
import { standardLabels } from "../k8s/meta";
import {
  ENGINE_CLIENT_LABEL,
  MODELS_NAMESPACE,
  NAMESPACE_NAME_LABEL,
  PROMETHEUS_PODS,
  networkPolicyPeer,
} from "../k8s/namespaces";
import { DNS_EGRESS } from "../k8s/network-policies";
import type { ServiceMonitorPlan } from "../k8s/service-monitor";
import { NODE_IMAGE_UID, nonRootPodSecurity, restrictedContainerSecurity } from "../k8s/pod-security";
import { gatewayTargetFor, targetFor } from "../verification/verification";
import {
  CANARY_CONFIG_DIR,
  CANARY_CONFIG_KEY,
  CANARY_METRICS_PORT,
  CANARY_FINGERPRINT_DIR,
  CANARY_USER_SET_DIR,
  type CanaryConfigInput,
  type CanaryTarget,
} from "../contracts/canary";

export const QUALITY_CANARY_NAME = "quality-canary";
/** The key of the API key in the canary's Secret. */
const API_KEY_KEY = "apiKey";

/**
 * What the canary's ConfigMap holds: the verifier's view of every model, without the wake-up phase. Through the
 * gateway a model is called as clients call it: the gateway's base URL, its OpenAI/unified rerank API and the
 * model's public name; the series keep the model's name either way.
 */
export function canaryTargetsOf(
  targets: readonly { model: ModelConfig; url: string }[],
  gatewayUrl?: string,
): CanaryTarget[] {
  return targets.map(({ model, url }) => {
    const t = gatewayUrl ? { ...gatewayTargetFor(model, gatewayUrl), name: model.name } : targetFor(model, url);
    const { wakeTimeoutSeconds: _wake, activeHours: _hours, publicUrl: _public, ...rest } = t;
    return {
      ...rest,
      scaleToZero: model.replicas.min === 0,
      ...(model.autoscaling.activeHours ? { activeHours: model.autoscaling.activeHours } : {}),
    } as CanaryTarget;
  });
}

/**
 * The config file the canary reads once at start (CANARY_CONFIG_KEY), with each model's fingerprint target (key,
 * tolerance) but never the recorded vectors: a 1024-dim record is ~90 KB and a ConfigMap holds 1 MiB. The records
 * are mounted from their own ConfigMaps (fingerprintVolume) under `fingerprintDir`.
 */
export function canaryConfigFile(args: {
  readonly canary: CanaryConfig;
  readonly targets: readonly { model: ModelConfig; url: string }[];
  readonly gatewayUrl?: string;
  readonly fingerprints?: Readonly<Record<string, FingerprintTarget>>;
}): string {
  const fingerprints = args.fingerprints ?? {};
  const targets = canaryTargetsOf(args.targets, args.gatewayUrl).map((t) =>
    fingerprints[t.name] ? { ...t, fingerprint: withoutRecord(fingerprints[t.name]!) } : t,
  );
  const c = args.canary;
  const body: CanaryConfigInput = {
    intervalSeconds: c.intervalSeconds,
    jitterSeconds: c.jitterSeconds,
    port: CANARY_METRICS_PORT,
    fingerprintDir: CANARY_FINGERPRINT_DIR,
    ...(c.userSet ? { userSetFile: `${CANARY_USER_SET_DIR}/${c.userSet.key}` } : {}),
    targets,
  };
  return JSON.stringify(body, null, 2);
}

function withoutRecord({ recorded: _recorded, ...target }: FingerprintTarget): FingerprintTarget {
  return target;
}

/**
 * The canary's one volume of recorded fingerprints: every model's ConfigMap, each optional (a model verified for
 * the first time, or never, has none yet). Projected volumes take ConfigMaps of the pod's namespace only.
 */
export function fingerprintVolume(models: readonly string[]) {
  return {
    name: "fingerprints",
    projected: { sources: models.map((m) => ({ configMap: { name: fingerprintConfigMapName(m), optional: true } })) },
  };
}

/** The pod template's annotation value: a new config restarts the pod (the canary reads it once at start). */
export function canaryConfigHash(configFile: string): string {
  return createHash("sha256").update(configFile).digest("hex").slice(0, 12);
}

/**
 * The namespaces of in-cluster Service URLs (`http://<service>.<namespace>.svc[.cluster.local][:port]`), in order,
 * each once; a URL of another form counts as MODELS_NAMESPACE.
 */
export function namespacesOfUrls(urls: readonly string[]): string[] {
  return [
    ...new Set(urls.map((u) => /^[a-z]+:\/\/[^./:]+\.([^./:]+)\.svc(\.|:|\/|$)/.exec(u)?.[1] ?? MODELS_NAMESPACE)),
  ];
}

/** The NetworkPolicy peers of namespaces, by their name label. */
export function namespacePeers(namespaces: readonly string[]): k8s.types.input.networking.v1.NetworkPolicyPeer[] {
  return namespaces.map((n) => ({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: n } } }));
}

export interface QualityCanaryPlanInputs {
  /** The component's name: every resource name derives from it. */
  readonly name: string;
  readonly namespace: string;
  readonly canary: CanaryConfig;
  /** The models it checks: their recorded fingerprints are mounted (fingerprintVolume). */
  readonly models: readonly string[];
  /** The verifier image (passed through). */
  readonly image: pulumi.Input<string>;
  /** canaryConfigFile() over the resolved URLs (passed through). */
  readonly configFile: pulumi.Input<string>;
  /** canaryConfigHash() of it (passed through). */
  readonly configHash: pulumi.Input<string>;
  /** namespacePeers() of the namespaces of the Services it calls (passed through): its only egress besides DNS. */
  readonly calledPeers: pulumi.Input<k8s.types.input.networking.v1.NetworkPolicyPeer[]>;
  /** The canary's API key (secret, passed through); none: no Secret, no CANARY_API_KEY. */
  readonly apiKey?: pulumi.Input<string>;
  /** The ServiceMonitor. */
  readonly monitoring: boolean;
}

/** One object: the resource name and what the constructor passes to it. */
interface Planned<T> {
  readonly resourceName: string;
  readonly args: T;
}

export interface QualityCanaryPlan {
  readonly configMap: Planned<k8s.core.v1.ConfigMapArgs>;
  readonly apiKeySecret?: Planned<k8s.core.v1.SecretArgs>;
  /** Created after the ConfigMap and the Secret, which it mounts and reads. */
  readonly deployment: Planned<k8s.apps.v1.DeploymentArgs>;
  readonly service: Planned<k8s.core.v1.ServiceArgs>;
  readonly serviceMonitor?: Planned<ServiceMonitorPlan>;
  readonly networkPolicy: Planned<k8s.networking.v1.NetworkPolicyArgs>;
}

/**
 * The canary's objects: a Deployment of one replica running the verifier image's second entry point
 * (/app/canary.js), its ConfigMap and API-key Secret, a Service and ServiceMonitor for its /metrics, and a
 * NetworkPolicy (Prometheus in; DNS and the Services it calls out).
 */
export function planQualityCanary(i: QualityCanaryPlanInputs): QualityCanaryPlan {
  const { name, namespace, canary: c } = i;
  const labels = standardLabels(QUALITY_CANARY_NAME, "quality-canary");
  const selector = { "app.kubernetes.io/name": QUALITY_CANARY_NAME };
  const meta = (suffix = "") => ({ name: `${QUALITY_CANARY_NAME}${suffix}`, namespace, labels });
  const configMapName = `${QUALITY_CANARY_NAME}-config`;
  const apiKeySecretName = `${QUALITY_CANARY_NAME}-api-key`;

  return {
    configMap: {
      resourceName: `${name}-config`,
      args: { metadata: meta("-config"), data: { [CANARY_CONFIG_KEY]: i.configFile } },
    },
    ...(i.apiKey !== undefined
      ? {
          apiKeySecret: {
            resourceName: `${name}-api-key`,
            args: { metadata: meta("-api-key"), type: "Opaque", stringData: { [API_KEY_KEY]: i.apiKey } },
          },
        }
      : {}),
    deployment: {
      resourceName: name,
      args: {
        metadata: meta(),
        spec: {
          // One replica: a second would double the calls and the series (the alerts take min/max anyway).
          replicas: 1,
          selector: { matchLabels: selector },
          template: {
            metadata: {
              labels: { ...labels, [ENGINE_CLIENT_LABEL]: "true" },
              annotations: { "retrieval-stack.io/config-hash": i.configHash },
            },
            spec: {
              automountServiceAccountToken: false,
              securityContext: nonRootPodSecurity(NODE_IMAGE_UID),
              containers: [
                {
                  name: QUALITY_CANARY_NAME,
                  image: i.image,
                  command: ["node", "--enable-source-maps", "/app/canary.js"],
                  env: [
                    { name: "CANARY_CONFIG_FILE", value: `${CANARY_CONFIG_DIR}/${CANARY_CONFIG_KEY}` },
                    ...(i.apiKey !== undefined
                      ? [
                          {
                            name: "CANARY_API_KEY",
                            valueFrom: { secretKeyRef: { name: apiKeySecretName, key: API_KEY_KEY } },
                          },
                        ]
                      : []),
                  ],
                  ports: [{ name: "metrics", containerPort: CANARY_METRICS_PORT }],
                  readinessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 10 },
                  livenessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 20 },
                  resources: { requests: { cpu: "20m", memory: "96Mi" }, limits: { memory: "256Mi" } },
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [
                    { name: "config", mountPath: CANARY_CONFIG_DIR, readOnly: true },
                    { name: "fingerprints", mountPath: CANARY_FINGERPRINT_DIR, readOnly: true },
                    ...(c.userSet ? [{ name: "user-set", mountPath: CANARY_USER_SET_DIR, readOnly: true }] : []),
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: configMapName } },
                fingerprintVolume(i.models),
                ...(c.userSet ? [{ name: "user-set", configMap: { name: c.userSet.configMap } }] : []),
              ],
            },
          },
        },
      },
    },
    service: {
      resourceName: name,
      args: {
        metadata: meta(),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "metrics", port: CANARY_METRICS_PORT, targetPort: "metrics" }],
        },
      },
    },
    ...(i.monitoring
      ? {
          serviceMonitor: {
            resourceName: name,
            args: {
              metadata: meta(),
              spec: {
                selector: { matchLabels: labels },
                endpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
              },
            },
          },
        }
      : {}),
    networkPolicy: {
      resourceName: name,
      args: {
        metadata: meta(),
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            { from: [networkPolicyPeer(PROMETHEUS_PODS)], ports: [{ protocol: "TCP", port: CANARY_METRICS_PORT }] },
          ],
          // The namespaces of the Services it calls, read from their in-cluster URLs (no argument to keep in step):
          // through the gateway only the gateway's.
          egress: [DNS_EGRESS, { to: i.calledPeers }],
        },
      },
    },
  };
}
