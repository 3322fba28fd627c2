import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { FingerprintTarget } from "../fingerprint/schema";
import { fingerprintConfigMapName } from "../fingerprint/store";
import * as k8s from "@pulumi/kubernetes";
import type { CanaryConfig, ModelConfig } from "../config";
import { childOptions, standardLabels } from "../k8s/meta";
import {
  ENGINE_CLIENT_LABEL,
  MODELS_NAMESPACE,
  NAMESPACE_NAME_LABEL,
  PROMETHEUS_PODS,
  networkPolicyPeer,
} from "../k8s/namespaces";
import { gatewayTargetFor, targetFor } from "../verification/verification";
import { NODE_IMAGE_UID, nonRootPodSecurity, restrictedContainerSecurity } from "../k8s/pod-security";
import { DNS_EGRESS } from "../k8s/network-policies";
import { createServiceMonitor } from "../k8s/service-monitor";
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

export interface QualityCanaryTarget {
  readonly model: ModelConfig;
  /** In-cluster base URL of the model's Service (ModelService.url); used when no gateway is given. */
  readonly url: pulumi.Input<string>;
}

export interface QualityCanaryArgs {
  readonly provider: k8s.Provider;
  /** observability.canary: schedule, thresholds (for the alerts), user set, gateway key name. */
  readonly canary: CanaryConfig;
  /** The verifier image (images/verifier); it carries the canary's entry point /app/canary.js. */
  readonly image: pulumi.Input<string>;
  readonly targets: readonly QualityCanaryTarget[];
  /**
   * Call the models through the API gateway (what users call) instead of their Services: its in-cluster base URL.
   * The canary then authenticates with `apiKey`, which the gateway must know under `canary.keyName` (default
   * "canary"; Gateway's `namedKeys`), so its calls are counted under that key, not a customer's.
   */
  readonly gateway?: { readonly url: pulumi.Input<string> };
  /** The canary's API key (secret): needed through the gateway, or by engines started with a key. */
  readonly apiKey?: pulumi.Output<string>;
  /**
   * Namespace of the canary. Default MODELS_NAMESPACE: the engines' NetworkPolicies admit pods there that carry
   * ENGINE_CLIENT_LABEL. The stack runs it in the gateway's namespace when it calls through the gateway. The pod does NOT carry VERIFIER_POD_LABEL: it never counts as demand for a scale-to-zero model.
   */
  readonly namespace?: string;
  /**
   * Each model's fingerprint target (key, tolerance), by model name (Verification.fingerprintTargets). The recorded
   * fingerprints are not in the canary's config: each model's `fingerprint-<model>` ConfigMap (in the canary's
   * namespace: Verification's `recordNamespace` must be this one) is mounted, optional, and read on every run, so
   * the config stays small with any number of models.
   */
  readonly fingerprints?: pulumi.Input<Record<string, FingerprintTarget>>;
  /** Create the ServiceMonitor (needs the Prometheus Operator CRDs), as `monitoring` does in every component; default true. */
  readonly monitoring?: boolean;
}

/**
 * The namespaces of in-cluster Service URLs (`http://<service>.<namespace>.svc[.cluster.local][:port]`), in order,
 * each once; a URL of another form counts as MODELS_NAMESPACE.
 */
export function calledNamespaces(urls: readonly pulumi.Input<string>[]): pulumi.Output<string[]> {
  return pulumi
    .all([...urls])
    .apply((us: string[]) => [
      ...new Set(us.map((u) => /^[a-z]+:\/\/[^./:]+\.([^./:]+)\.svc(\.|:|\/|$)/.exec(u)?.[1] ?? MODELS_NAMESPACE)),
    ]);
}

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
 * The canary's one volume of recorded fingerprints: every model's ConfigMap, each optional (a model verified for
 * the first time, or never, has none yet). Projected volumes take ConfigMaps of the pod's namespace only.
 */
export function fingerprintVolume(models: readonly string[]) {
  return {
    name: "fingerprints",
    projected: { sources: models.map((m) => ({ configMap: { name: fingerprintConfigMapName(m), optional: true } })) },
  };
}

/**
 * The quality canary: a Deployment running the verifier image's second entry point (images/canary) every
 * `canary.intervalSeconds` ± jitter over every model, its ConfigMap, a Service and ServiceMonitor for its
 * /metrics, and a NetworkPolicy (Prometheus in; DNS, the models and the gateway out).
 */
export class QualityCanary extends pulumi.ComponentResource {
  readonly namespace: string;
  readonly configMap: k8s.core.v1.ConfigMap;
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
  readonly serviceMonitor?: k8s.apiextensions.CustomResource;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: QualityCanaryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:observability:QualityCanary", name, {}, opts);
    const ns = args.namespace ?? MODELS_NAMESPACE;
    this.namespace = ns;
    const c = args.canary;
    const o = childOptions(this, args.provider);
    const labels = standardLabels(QUALITY_CANARY_NAME, "quality-canary");
    const selector = { "app.kubernetes.io/name": QUALITY_CANARY_NAME };
    const meta = (suffix = "") => ({ name: `${QUALITY_CANARY_NAME}${suffix}`, namespace: ns, labels });

    const config = pulumi
      .all([
        pulumi.all(args.targets.map((t) => pulumi.output(t.url))),
        args.gateway ? pulumi.output(args.gateway.url) : pulumi.output(undefined),
        pulumi.output(args.fingerprints ?? {}),
      ])
      .apply(([urls, gatewayUrl, fingerprints]) => {
        const targets = canaryTargetsOf(
          args.targets.map((t, i) => ({ model: t.model, url: urls[i]! })),
          gatewayUrl,
        ).map((t) => {
          // Never inline the record: a 1024-dim fingerprint is ~90 KB, and a ConfigMap holds 1 MiB.
          const f = fingerprints[t.name];
          return f ? { ...t, fingerprint: (({ recorded: _r, ...rest }) => rest)(f) } : t;
        });
        const body: CanaryConfigInput = {
          intervalSeconds: c.intervalSeconds,
          jitterSeconds: c.jitterSeconds,
          port: CANARY_METRICS_PORT,
          fingerprintDir: CANARY_FINGERPRINT_DIR,
          ...(c.userSet ? { userSetFile: `${CANARY_USER_SET_DIR}/${c.userSet.key}` } : {}),
          targets,
        };
        return JSON.stringify(body, null, 2);
      });
    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: meta("-config"), data: { [CANARY_CONFIG_KEY]: config } },
      o,
    );
    const apiKey = args.apiKey
      ? new k8s.core.v1.Secret(
          `${name}-api-key`,
          { metadata: meta("-api-key"), type: "Opaque", stringData: { apiKey: pulumi.secret(args.apiKey) } },
          o,
        )
      : undefined;

    this.deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: meta(),
        spec: {
          // One replica: a second would double the calls and the series (the alerts take min/max anyway).
          replicas: 1,
          selector: { matchLabels: selector },
          template: {
            metadata: {
              labels: { ...labels, [ENGINE_CLIENT_LABEL]: "true" },
              // A new config restarts the pod (the canary reads it once at start).
              annotations: {
                "retrieval-stack.io/config-hash": config.apply((s) =>
                  createHash("sha256").update(s).digest("hex").slice(0, 12),
                ),
              },
            },
            spec: {
              automountServiceAccountToken: false,
              securityContext: nonRootPodSecurity(NODE_IMAGE_UID),
              containers: [
                {
                  name: QUALITY_CANARY_NAME,
                  image: args.image,
                  command: ["node", "--enable-source-maps", "/app/canary.js"],
                  env: [
                    { name: "CANARY_CONFIG_FILE", value: `${CANARY_CONFIG_DIR}/${CANARY_CONFIG_KEY}` },
                    ...(apiKey
                      ? [
                          {
                            name: "CANARY_API_KEY",
                            valueFrom: { secretKeyRef: { name: apiKey.metadata.name, key: "apiKey" } },
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
                { name: "config", configMap: { name: this.configMap.metadata.name } },
                fingerprintVolume(args.targets.map((t) => t.model.name)),
                ...(c.userSet ? [{ name: "user-set", configMap: { name: c.userSet.configMap } }] : []),
              ],
            },
          },
        },
      },
      o,
    );
    this.service = new k8s.core.v1.Service(
      name,
      {
        metadata: meta(),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "metrics", port: CANARY_METRICS_PORT, targetPort: "metrics" }],
        },
      },
      o,
    );
    if (args.monitoring ?? true)
      this.serviceMonitor = createServiceMonitor(
        name,
        meta(),
        { selector: { matchLabels: labels }, endpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }] },
        o,
      );
    const inNamespace = (n: string) => ({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: n } } });
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      name,
      {
        metadata: meta(),
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            { from: [networkPolicyPeer(PROMETHEUS_PODS)], ports: [{ protocol: "TCP", port: CANARY_METRICS_PORT }] },
          ],
          egress: [
            DNS_EGRESS,
            // The namespaces of the Services it calls, read from their in-cluster URLs (no argument to keep in step):
            // through the gateway only the gateway's.
            {
              to: calledNamespaces(args.gateway ? [args.gateway.url] : args.targets.map((t) => t.url)).apply((nss) =>
                nss.map(inNamespace),
              ),
            },
          ],
        },
      },
      o,
    );
    this.registerOutputs({ namespace: ns });
  }
}
