// The Pulumi program: read the stack config once, then compose the components in one direction.
// Cluster -> Observability -> GpuRuntime -> Ingress -> KEDA -> EnginePrerequisites -> ModelService x N -> Gateway
//   -> QualityCanary -> Verification
// (Observability comes before the GPU runtime because it installs the CRDs their ServiceMonitors need.)
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { loadPlatformConfig } from "./components/validation";
import { Cluster, LimitStore } from "./components/cluster";
import { gatewayReplicas, redisModeOf } from "./components/config/gateway";
import { profileOf } from "./components/config/environments";
import { GpuRuntime } from "./components/gpu";
import { Observability } from "./components/observability";
import { Ingress } from "./components/ingress";
import { controller as ingressController } from "./components/ingress/controller";
import { ModelService } from "./components/serving/model-service";
import { Keda } from "./components/serving/keda";
import { EnginePrerequisites } from "./components/serving/engine-prerequisites";
import { longestCallSeconds } from "./components/serving/pod";
import {
  INGRESS_NAMESPACE,
  MODELS_NAMESPACE,
  NAMESPACE_NAME_LABEL,
  NAMESPACE_POD_SECURITY,
  gatewayNamespaceMetadata,
  podSecurityLabels,
} from "./components/k8s/namespaces";
import { DEFAULT_EKS_KUBERNETES_VERSION } from "./components/versions";
import { Verification } from "./components/verification";
import { verificationModeOf } from "./components/config/verification";
import { imagesOf } from "./components/config/images";
import {
  Gateway,
  GATEWAY_CONTAINER,
  GATEWAY_SERVICE,
  GATEWAY_SERVICE_PORT,
  gatewayNames,
  gatewaySelector,
  gatewayWaitingQuery,
  internalCallerKeys,
  verificationGatewayKey,
  derivedStorePassword,
} from "./components/gateway";
import { QualityCanary } from "./components/observability/quality-canary";
import { canaryApiKey, gatewayAdmitsAnonymous } from "./components/observability/canary-key";
import { ProjectImage, VERIFIER_IMAGE } from "./components/build/project-image";

const { config, secrets } = loadPlatformConfig();
const { environment } = config;
// The gateway, its Redis and the quality canary run in a namespace of their own that enforces Pod Security
// restricted (the models' namespace is privileged only for the weight cache): docs/gateway.md#namespaces.
const gatewayNamespaceName = config.gateway.namespace;

const cluster = new Cluster("cluster", {
  environment,
  cluster: config.cluster,
  gpuNodeGroups: config.gpuNodeGroups,
  models: config.models,
});
const provider = cluster.provider;

// The quality canary runs every few minutes over every model (observability.canary), from the verifier image,
// which the post-deploy Job runs too: one build (or the configured verification.image) for both.
const canaryEnabled = config.observability.enabled && config.observability.canary.enabled;
// Our own images come from config `images` (ecr | registry | prebuilt | local; components/config/images.ts).
const images = imagesOf(config.images, environment);
const prebuilt = images.source === "prebuilt" ? images : undefined;
const gatewayImage = config.gateway.image ?? prebuilt?.gateway;
const verifierImage =
  config.verification.image ??
  prebuilt?.verifier ??
  (canaryEnabled || verificationModeOf(config.verification, environment) === "job"
    ? new ProjectImage("verifier-image", { environment, images, ...VERIFIER_IMAGE }).ref
    : undefined);

const observability = new Observability(
  "observability",
  {
    provider,
    environment,
    observability: config.observability,
    models: config.models,
    secrets,
    ingress: config.ingress,
    // The gateway's alerts (error ratio per key and model, breaker, quota, Redis) when the stack has one.
    gateway: config.gateway,
    // The canary is constructed below, after the models it calls; its alerts and dashboard rows are rendered here.
    canary: { enabled: canaryEnabled },
    // Loki + Alloy where observability.logs is on; cloud stacks keep the chunks in S3 through an IRSA role.
    logs: {
      ...(cluster.oidc && config.cluster.mode === "eks"
        ? { aws: { region: config.cluster.region, ...cluster.oidc } }
        : {}),
      audit: { namespace: gatewayNamespaceName, container: GATEWAY_CONTAINER },
    },
    // GPU cost per model and key, budgets (docs/cost.md).
    cost: { cluster: config.cluster, gpuNodeGroups: config.gpuNodeGroups, cost: config.cost, gateway: config.gateway },
  },
  { dependsOn: [cluster] },
);

const gpu = new GpuRuntime(
  "gpu",
  {
    provider,
    gpuNodeGroups: config.gpuNodeGroups,
    monitoring: config.observability.enabled,
    preinstalled: cluster.gpuRuntimePreinstalled,
  },
  // The DCGM exporter's ServiceMonitor needs the Prometheus Operator CRDs that the observability stack installs.
  { dependsOn: [cluster, observability] },
);

const modelNamespace = new k8s.core.v1.Namespace(
  "models",
  {
    metadata: {
      name: MODELS_NAMESPACE,
      // Pod Security Admission level and why: NAMESPACE_POD_SECURITY (docs/security.md).
      labels: {
        "app.kubernetes.io/part-of": "retrieval-stack",
        ...podSecurityLabels(NAMESPACE_POD_SECURITY[MODELS_NAMESPACE]!.level),
      },
    },
  },
  { provider },
);

const gatewayNamespace = config.gateway.enabled
  ? new k8s.core.v1.Namespace(
      "gateway-namespace",
      {
        // Pod Security labels pinned to the cluster's minor version (an existing cluster: the version our pods were
        // checked against, which an older API server evaluates as its latest).
        metadata: gatewayNamespaceMetadata(
          gatewayNamespaceName,
          config.cluster.mode === "eks" ? config.cluster.kubernetesVersion : DEFAULT_EKS_KUBERNETES_VERSION,
        ),
      },
      { provider },
    )
  : undefined;

const ingress = new Ingress(
  "ingress",
  {
    provider,
    environment,
    ingress: config.ingress,
    models: config.models,
    modelNamespace: modelNamespace.metadata.name,
    apiKeys: secrets.apiKeys,
    monitoring: config.observability.enabled,
    // /v1/*, /rerank and /v2/rerank go to the gateway, which checks keys itself (docs/gateway.md).
    // Its route objects live in the gateway's namespace (components/ingress/nginx-ingress/objects.ts).
    gateway: config.gateway.enabled
      ? { service: GATEWAY_SERVICE, port: GATEWAY_SERVICE_PORT, namespace: gatewayNamespaceName }
      : undefined,
  },
  // The controller's ServiceMonitor needs the Prometheus Operator CRDs the observability stack installs.
  { dependsOn: [cluster, observability, ...(gatewayNamespace ? [gatewayNamespace] : [])] },
);

// KEDA scales every model on its engine's queue depth and in-flight requests (read from Prometheus).
const keda = config.observability.enabled
  ? new Keda("keda", { provider, monitoring: true }, { dependsOn: [observability] })
  : undefined;

// What the models' engines need cluster-wide (KServe for kserve models), once; cert-manager from the ingress if it has it.
const enginePrerequisites = new EnginePrerequisites(
  "engine-prerequisites",
  {
    provider,
    environment,
    models: config.models,
    engines: config.engines,
    monitoring: config.observability.enabled,
    ingress: { config: config.ingress, component: ingress },
  },
  { dependsOn: [cluster, observability] },
);

const models = config.models.map(
  (model) =>
    new ModelService(
      model.name,
      {
        provider,
        environment,
        namespace: MODELS_NAMESPACE,
        model,
        gpuNodeGroup: model.gpu ? config.gpuNodeGroups[model.gpu.nodeGroup] : undefined,
        hfToken: secrets.hfToken,
        monitoring: config.observability.enabled,
        autoscaling: config.observability.enabled,
        // Pods finish the longest call the ingress or the gateway may have sent them before they go.
        longestCallSeconds: longestCallSeconds(config),
        // Requests the gateway holds for a model with no ready pod wake it (KEDA trigger on the waiting count).
        ...(config.gateway.enabled
          ? {
              demandQuery: gatewayWaitingQuery(model.name, gatewayNamespaceName),
              // The gateway's pods, in their own namespace, call the engines.
              peers: {
                gateway: [
                  {
                    namespaceLabels: { [NAMESPACE_NAME_LABEL]: gatewayNamespaceName },
                    podLabels: gatewaySelector(gatewayNames("gateway")),
                  },
                ],
              },
            }
          : {}),
      },
      // ServiceMonitors and ScaledObjects need the CRDs the observability stack installs (observability.crds, not the
      // component: that would expand to its per-model children, N x N); GPUs need the device plugin; InferenceServices
      // need KServe.
      { dependsOn: [modelNamespace, gpu, observability.crds, ...(keda ? [keda] : []), enginePrerequisites] },
    ),
);

// The canary's own key at the gateway, so its calls are never counted as a customer's.
const canaryKey =
  canaryEnabled && config.gateway.enabled ? canaryApiKey(secrets, config.gateway, environment) : undefined;
// The post-deploy verification's own key: exempt from customer limits and quotas, sized to what it runs.
const verificationKey = config.gateway.enabled
  ? verificationGatewayKey(secrets.apiKeys, gatewayAdmitsAnonymous(config.gateway, secrets.apiKeys), environment)
  : undefined;

// The limit counters of a cloud stack's gateway: ElastiCache (Valkey, Multi-AZ, TLS, AUTH token), not a pod.
const storeToken = pulumi.secret(
  (
    secrets.apiKeys ??
    secrets.canaryApiKey?.apply((k) => [k]) ??
    pulumi.output([`${pulumi.getProject()}/${environment}`])
  ).apply((k) => derivedStorePassword(k[0]!)),
);
const limitStore =
  config.gateway.enabled &&
  cluster.network &&
  redisModeOf(config.gateway, gatewayReplicas(config.gateway, profileOf(environment).minReplicasFloor)) === "deploy"
    ? new LimitStore("gateway-limits", { ...cluster.network, authToken: storeToken })
    : undefined;

// One base URL for every model: routing by model name, one rerank shape, keys, limits, usage and audit.
const gateway = config.gateway.enabled
  ? new Gateway(
      "gateway",
      {
        provider,
        environment,
        gateway: config.gateway,
        models: config.models,
        namespace: gatewayNamespaceName,
        modelsNamespace: MODELS_NAMESPACE,
        apiKeys: secrets.apiKeys,
        namedKeys: internalCallerKeys({
          ...(verificationKey ? { verification: { key: verificationKey, config: config.verification } } : {}),
          ...(canaryKey ? { canary: { key: canaryKey, name: config.observability.canary.keyName } } : {}),
        }),
        startupBudgetSeconds: Object.fromEntries(models.map((m) => [m.modelName, m.pod.startupBudgetSeconds])),
        ...(limitStore
          ? { managedStore: { host: limitStore.host, port: limitStore.port, authToken: storeToken } }
          : {}),
        monitoring: config.observability.enabled,
        ...(gatewayImage ? { image: gatewayImage } : { images }),
        // Opt-in 429 for keys whose monthly GPU budget is spent (docs/cost.md).
        refuseOverBudget: config.cost.enabled && config.cost.refuseOverBudget,
        gpuNodeGroups: config.gpuNodeGroups,
        // X-Forwarded-For is trusted from the ingress controller's pods, learnt from its Service's EndpointSlices.
        ...(config.ingress.enabled
          ? { ingressProxies: { namespace: INGRESS_NAMESPACE, service: ingressController.proxyService } }
          : {}),
      },
      {
        dependsOn: [
          modelNamespace,
          ...(gatewayNamespace ? [gatewayNamespace] : []),
          observability,
          ...(keda ? [keda] : []),
        ],
      },
    )
  : undefined;

const verifier = new Verification(
  "verification",
  {
    provider,
    environment,
    verification: config.verification,
    ...(verifierImage ? { image: verifierImage } : {}),
    namespace: modelNamespace.metadata.name,
    // The fingerprint record's ConfigMaps go where the quality canary runs: it can mount them only from its own.
    recordNamespace: gatewayNamespace ? gatewayNamespace.metadata.name : modelNamespace.metadata.name,
    targets: models.map((m, i) => ({
      model: config.models[i]!,
      url: m.url,
      publicUrl: ingress.urls[m.modelName],
      edge: ingress.limits[m.modelName],
      startupBudgetSeconds: m.pod.startupBudgetSeconds,
    })),
    apiKey: secrets.apiKeys?.apply((keys) => keys[0] ?? ""),
    ...(gateway ? { aliases: config.gateway.aliases } : {}),
    // Every model is proven through the one URL too, as clients call it.
    ...(gateway
      ? {
          gateway: {
            url: gateway.url,
            publicUrl: ingress.gatewayUrl,
            edge: ingress.gatewayLimits,
            models: config.models.map((m) => m.name),
            ...(verificationKey ? { apiKey: verificationKey } : {}),
          },
        }
      : {}),
  },
  { dependsOn: [...models, ingress, ...(gateway ? [gateway] : [])] },
);

// Through the gateway when the stack has one (as clients call the models), else each model's Service. Scale-to-zero
// models are called only inside their activeHours, so the canary never wakes one.
const qualityCanary =
  canaryEnabled && verifierImage
    ? new QualityCanary(
        "quality-canary",
        {
          provider,
          canary: config.observability.canary,
          image: verifierImage,
          // Beside the gateway it calls; without a gateway it calls the engines, which admit it in their namespace.
          // The Verification's recordNamespace above is the same choice: the canary mounts the fingerprint records.
          namespace: gatewayNamespace ? gatewayNamespaceName : MODELS_NAMESPACE,
          targets: models.map((m, i) => ({ model: config.models[i]!, url: m.url })),
          // Each model's recorded fingerprint, once a verified deploy has recorded it: the canary compares with it.
          fingerprints: verifier.fingerprintTargets,
          ...(gateway
            ? { gateway: { url: gateway.url }, apiKey: canaryKey }
            : { apiKey: secrets.apiKeys?.apply((keys) => keys[0]!) }),
        },
        {
          dependsOn: [
            modelNamespace,
            ...(gatewayNamespace ? [gatewayNamespace] : []),
            observability,
            ...models,
            ...(gateway ? [gateway] : []),
          ],
        },
      )
    : undefined;

export const environmentName = environment;
export const clusterName = cluster.clusterName;
export const kubeconfig = cluster.kubeconfig;
export const gpuNodeGroups = cluster.gpuNodeGroups;
export const gpuCapacity = cluster.gpuCapacity;
export const modelEndpoints = Object.fromEntries(models.map((m) => [m.modelName, m.url]));
export const publicEndpoints = ingress.urls;
/** The gateway: in-cluster URL, and the one public base URL of every model (OpenAI/Cohere clients use it). */
export const gatewayUrl = gateway?.url;
export const gatewayPublicUrl = gateway ? ingress.gatewayUrl : undefined;
/** What `retrieval-stack verify --stack <name>` reads (components/contracts/stack-outputs.ts). */
export const verification = verifier.stackOutput;
export const verificationApiKey = verifier.apiKey;
export const verificationGatewayApiKey = verifier.gatewayApiKey;
/** Each model's recorded fingerprint (#25; docs/model-changes.md), kept in state and compared by every deploy. */
export const modelFingerprints = verifier.fingerprints;
/** The quality canary's Deployment (observability.canary), when the stack deploys it. */
export const qualityCanaryName = qualityCanary?.deployment.metadata.name;
