import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { FingerprintTarget } from "../fingerprint/schema";
import type { CanaryConfig, ModelConfig } from "../config";
import { childOptions } from "../k8s/meta";
import { MODELS_NAMESPACE } from "../k8s/namespaces";
import { createServiceMonitor } from "../k8s/service-monitor";
import {
  canaryConfigFile,
  canaryConfigHash,
  namespacePeers,
  namespacesOfUrls,
  planQualityCanary,
  type QualityCanaryPlan,
} from "./quality-canary-plan";

export { QUALITY_CANARY_NAME, canaryTargetsOf, fingerprintVolume } from "./quality-canary-plan";

interface QualityCanaryTarget {
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
   * ENGINE_CLIENT_LABEL. The stack runs it in the gateway's namespace when it calls through the gateway. The pod
   * does NOT carry VERIFIER_POD_LABEL: it never counts as demand for a scale-to-zero model.
   * @default MODELS_NAMESPACE
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
function calledNamespaces(urls: readonly pulumi.Input<string>[]): pulumi.Output<string[]> {
  return pulumi.all([...urls]).apply(namespacesOfUrls);
}

/**
 * The quality canary: a Deployment running the verifier image's second entry point (images/canary) every
 * `canary.intervalSeconds` ± jitter over every model, its ConfigMap, a Service and ServiceMonitor for its
 * /metrics, and a NetworkPolicy (Prometheus in; DNS, the models and the gateway out). planQualityCanary
 * (quality-canary-plan.ts) computes every object; the constructor resolves the URLs and creates them.
 */
export class QualityCanary extends pulumi.ComponentResource {
  readonly namespace: string;
  /** What was planned, for summaries and tests. */
  readonly plan: QualityCanaryPlan;
  readonly configMap: k8s.core.v1.ConfigMap;
  readonly apiKeySecret?: k8s.core.v1.Secret;
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
  readonly serviceMonitor?: k8s.apiextensions.CustomResource;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: QualityCanaryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:observability:QualityCanary", name, {}, opts);
    const ns = args.namespace ?? MODELS_NAMESPACE;
    this.namespace = ns;
    const o = (extra: pulumi.CustomResourceOptions = {}) => childOptions(this, args.provider, extra);

    const configFile = pulumi
      .all([
        pulumi.all(args.targets.map((t) => pulumi.output(t.url))),
        args.gateway ? pulumi.output(args.gateway.url) : pulumi.output(undefined),
        pulumi.output(args.fingerprints ?? {}),
      ])
      .apply(([urls, gatewayUrl, fingerprints]) =>
        canaryConfigFile({
          canary: args.canary,
          targets: args.targets.map((t, i) => ({ model: t.model, url: urls[i]! })),
          ...(gatewayUrl ? { gatewayUrl } : {}),
          fingerprints,
        }),
      );
    // Through the gateway it calls only the gateway; otherwise each model's Service.
    const called = calledNamespaces(args.gateway ? [args.gateway.url] : args.targets.map((t) => t.url));
    const plan = planQualityCanary({
      name,
      namespace: ns,
      canary: args.canary,
      models: args.targets.map((t) => t.model.name),
      image: args.image,
      configFile,
      configHash: configFile.apply(canaryConfigHash),
      calledPeers: called.apply(namespacePeers),
      ...(args.apiKey ? { apiKey: pulumi.secret(args.apiKey) } : {}),
      monitoring: args.monitoring ?? true,
    });
    this.plan = plan;

    this.configMap = new k8s.core.v1.ConfigMap(plan.configMap.resourceName, plan.configMap.args, o());
    this.apiKeySecret = plan.apiKeySecret
      ? new k8s.core.v1.Secret(plan.apiKeySecret.resourceName, plan.apiKeySecret.args, o())
      : undefined;
    this.deployment = new k8s.apps.v1.Deployment(
      plan.deployment.resourceName,
      plan.deployment.args,
      o({ dependsOn: [this.configMap, ...(this.apiKeySecret ? [this.apiKeySecret] : [])] }),
    );
    this.service = new k8s.core.v1.Service(plan.service.resourceName, plan.service.args, o());
    if (plan.serviceMonitor)
      this.serviceMonitor = createServiceMonitor(
        plan.serviceMonitor.resourceName,
        plan.serviceMonitor.args.metadata,
        plan.serviceMonitor.args.spec,
        o(),
      );
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      plan.networkPolicy.resourceName,
      plan.networkPolicy.args,
      o(),
    );
    this.registerOutputs({ namespace: ns });
  }
}
