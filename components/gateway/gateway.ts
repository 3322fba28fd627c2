import { createHash, createHmac } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { Environment } from "../config/common";
import type { ModelConfig } from "../config/serving";
import type { GatewayConfig, GatewayLimits } from "../config/gateway";
import { childOptions } from "../k8s/meta";
import { createServiceMonitor } from "../k8s/service-monitor";
import { MODELS_NAMESPACE } from "../k8s/namespaces";
import { GATEWAY_IMAGE, ProjectImage } from "../build/project-image";
import type { ImagesConfig } from "../config/images";
import { gatewayNames } from "./names";
import { planGateway, type GatewayPlan, type GatewayPlanInputs } from "./plan";
import { storeAuthData } from "./store-plan";
import type { RuntimeConfig, RuntimeKey } from "./runtime-config";

export {
  GATEWAY_CONTAINER,
  GATEWAY_CONTAINER_PORT,
  GATEWAY_METRICS_PORT,
  GATEWAY_SCALING,
  GATEWAY_SERVICE_PORT,
  gatewayMemoryLimitMiB,
} from "./plan";
export { REDIS_IMAGE } from "./store-plan";

/** The stack's own Gateway is named "gateway": its Service (what the ingress routes /v1/* to). */
export const GATEWAY_SERVICE = gatewayNames("gateway").base;
/** The stack's own Gateway's counter store Service. */
export const REDIS_SERVICE = gatewayNames("gateway").store;

export interface GatewayArgs {
  readonly provider: k8s.Provider;
  readonly environment: Environment;
  readonly gateway: GatewayConfig;
  readonly models: readonly ModelConfig[];
  /**
   * Namespace of the gateway and its counter store. Default: the models' namespace; the stack gives it one of its
   * own that enforces Pod Security restricted (config gateway.namespace, docs/gateway.md#namespaces).
   */
  readonly namespace?: string;
  /** Namespace of the models (their EndpointSlices are read there). Default: "retrieval" (MODELS_NAMESPACE). */
  readonly modelsNamespace?: string;
  /** secrets.apiKeys: hashed here (inside a secret Output) and named api-key-1, api-key-2, ... */
  readonly apiKeys?: pulumi.Output<string[]>;
  /**
   * Keys of the stack's own callers under a name of their own (the quality canary's, the post-deploy
   * verification's), hashed like apiKeys. With `internal` they are exempt from the customer limits and quotas and
   * held to their own `limits`. They do not close a gateway that admits anonymous callers.
   */
  readonly namedKeys?: readonly NamedKey[];
  /** ServiceMonitor and KEDA ScaledObject (their CRDs must exist); without it an HPA on CPU. */
  readonly monitoring: boolean;
  /** A prebuilt gateway image (pinned); default: built from images/gateway (pushed to ECR in cloud stacks). */
  readonly image?: pulumi.Input<string>;
  /** Where the image is built to when `image` is absent (config `images`; default: the environment's). */
  readonly images?: ImagesConfig;
  /**
   * Password of the in-cluster counter store (redis.mode deploy/auto). Default: derived from the first apiKeys
   * entry (HMAC, reveals nothing of it), else from the stack's name (local stacks, which admit anonymous callers).
   */
  readonly storePassword?: pulumi.Input<string>;
  /**
   * The managed store of a cloud stack (components/cluster/limit-store.ts): its primary endpoint, port and AUTH
   * token. The pods reach it over TLS with the token from a Secret of the gateway.
   */
  readonly managedStore?: {
    readonly host: pulumi.Input<string>;
    readonly port: number;
    readonly authToken: pulumi.Input<string>;
  };
  /** Startup budget per model (seconds), e.g. from ModelService.pod: the default wake wait. */
  readonly startupBudgetSeconds?: Readonly<Record<string, number>>;
  /** cost.refuseOverBudget: refuse keys whose monthly GPU budget is spent, learnt from the stack's Prometheus. */
  readonly refuseOverBudget?: boolean;
  /**
   * The ingress controller's Service (e.g. the Ingress component's): X-Forwarded-For is trusted from the pods its
   * EndpointSlices list, through a read-only Role in its namespace, besides gateway.trustedProxies.
   */
  readonly ingressProxies?: { readonly namespace: string; readonly service: string };
  /** The stack's GPU node groups: each engine's batch figure depends on its GPU (fair admission per pod). */
  readonly gpuNodeGroups?: GatewayPlanInputs["gpuNodeGroups"];
}

export interface NamedKey {
  readonly name: string;
  readonly key: pulumi.Output<string>;
  /** Our own caller: exempt from customer limits and quotas, held to `limits` instead. */
  readonly internal?: boolean;
  readonly limits?: Partial<GatewayLimits>;
  /** Models (or aliases) the key may call; absent: all. */
  readonly models?: readonly string[];
}

const sha256Of = (key: string) => createHash("sha256").update(key).digest("hex");
const STORE_PASSWORD_LABEL = "retrieval-stack gateway counter store v1";

/** A store password that reveals nothing of the secret it is made from (HMAC-SHA256, hex: URL-safe). */
export function derivedStorePassword(secret: string): string {
  return createHmac("sha256", secret).update(STORE_PASSWORD_LABEL).digest("hex");
}

/**
 * Every key the gateway admits, as hashes: gateway.keys (already hashes), secrets.apiKeys (named api-key-1,
 * api-key-2, ...) and the named keys. What the keys Secret holds (the keys themselves never leave their Outputs).
 */
export function hashedKeys(
  keys: readonly string[],
  named: readonly (Omit<NamedKey, "key"> & { key: string })[] = [],
  configured: GatewayConfig["keys"] = {},
): RuntimeKey[] {
  const out = new Map<string, RuntimeKey>();
  for (const [name, k] of Object.entries(configured))
    out.set(name, {
      name,
      sha256: [...k.sha256],
      ...(k.limits ? { limits: k.limits } : {}),
      ...(k.models ? { models: [...k.models] } : {}),
    });
  keys.forEach((k, i) => out.set(`api-key-${i + 1}`, { name: `api-key-${i + 1}`, sha256: [sha256Of(k)] }));
  for (const n of named)
    out.set(n.name, {
      name: n.name,
      sha256: [sha256Of(n.key)],
      ...(n.internal ? { internal: true } : {}),
      ...(n.limits ? { limits: n.limits } : {}),
      ...(n.models ? { models: [...n.models] } : {}),
    });
  return [...out.values()];
}

/**
 * The retrieval gateway in the cluster (docs/gateway.md): Deployment (replicas owned by KEDA or the HPA once they
 * run), Service, PodDisruptionBudget, KEDA ScaledObject on request rate and in-flight requests (HPA on CPU without
 * monitoring), ServiceMonitor, NetworkPolicy, ConfigMap with the route table, Secret with the key hashes (re-read
 * by the pods when it changes), a read-only Role for EndpointSlice discovery in the models' namespace, and the
 * counter store for the limits when more than one replica may share them. Objects are planned by plan.ts.
 */
export class Gateway extends pulumi.ComponentResource {
  /** In-cluster base URL, e.g. http://retrieval-gateway.retrieval-gateway.svc.cluster.local. */
  readonly url: pulumi.Output<string>;
  /** Name of the Service (the ingress routes to it). */
  readonly serviceName: string;
  readonly namespace: string;
  /** What the server reads (without the Secret's key hashes). */
  readonly runtimeConfig: RuntimeConfig;
  readonly replicas: number;
  readonly redisMode: GatewayPlan["storeMode"];
  readonly plan: GatewayPlan;
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
  /** The Service of the metrics port (Prometheus only; the callers' Service does not expose /metrics). */
  readonly metricsService: k8s.core.v1.Service;
  readonly configMap: k8s.core.v1.ConfigMap;
  readonly keysSecret: k8s.core.v1.Secret;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  readonly discovery: {
    readonly serviceAccount: k8s.core.v1.ServiceAccount;
    readonly role: k8s.rbac.v1.Role;
    readonly roleBinding: k8s.rbac.v1.RoleBinding;
    /** Reads the ingress controller's EndpointSlices (its pods are the trusted proxies). */
    readonly proxyRole?: k8s.rbac.v1.Role;
    readonly proxyRoleBinding?: k8s.rbac.v1.RoleBinding;
  };
  readonly podDisruptionBudget?: k8s.policy.v1.PodDisruptionBudget;
  readonly serviceMonitor?: k8s.apiextensions.CustomResource;
  readonly scaledObject?: k8s.apiextensions.CustomResource;
  readonly hpa?: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  readonly image?: ProjectImage;
  /** The managed store's AUTH token, as the pods read it (cloud stacks). */
  readonly storeAuthSecret?: k8s.core.v1.Secret;
  /** The in-cluster counter store (redis.mode deploy, or auto with more than one replica possible). */
  readonly redis?: {
    readonly authSecret: k8s.core.v1.Secret;
    readonly volumeClaim: k8s.core.v1.PersistentVolumeClaim;
    readonly deployment: k8s.apps.v1.Deployment;
    readonly service: k8s.core.v1.Service;
    readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;
    readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  };

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:gateway:Gateway", name, {}, opts);
    const o = (extra: pulumi.CustomResourceOptions = {}) => childOptions(this, args.provider, extra);
    const modelsNamespace = args.modelsNamespace ?? MODELS_NAMESPACE;
    this.namespace = args.namespace ?? modelsNamespace;
    this.image = args.image
      ? undefined
      : new ProjectImage(
          `${name}-image`,
          { environment: args.environment, images: args.images, ...GATEWAY_IMAGE },
          { parent: this },
        );
    const plan = planGateway({
      name,
      environment: args.environment,
      gateway: args.gateway,
      models: args.models,
      namespace: this.namespace,
      modelsNamespace,
      monitoring: args.monitoring,
      secretKeys: args.apiKeys !== undefined,
      image: args.image ?? this.image!.ref,
      ...(args.startupBudgetSeconds ? { startupBudgetSeconds: args.startupBudgetSeconds } : {}),
      ...(args.refuseOverBudget ? { refuseOverBudget: true } : {}),
      ...(args.ingressProxies ? { ingressProxies: args.ingressProxies } : {}),
      ...(args.gpuNodeGroups ? { gpuNodeGroups: args.gpuNodeGroups } : {}),
      ...(args.managedStore
        ? {
            externalStore: {
              // TLS (rediss) with the token, which Kubernetes puts in from the Secret ($(VAR) expansion).
              url: pulumi.interpolate`rediss://:$(STORE_PASSWORD)@${args.managedStore.host}:${args.managedStore.port}`,
              withPassword: true,
            },
          }
        : {}),
    });
    this.plan = plan;
    this.serviceName = plan.names.base;
    this.replicas = plan.replicas;
    this.redisMode = plan.storeMode;
    this.runtimeConfig = plan.runtimeConfig;

    if (args.managedStore)
      this.storeAuthSecret = new k8s.core.v1.Secret(
        `${name}-redis-auth`,
        {
          metadata: { name: plan.names.storeAuth, namespace: this.namespace },
          type: "Opaque",
          stringData: pulumi.output(pulumi.secret(args.managedStore.authToken)).apply(storeAuthData),
        },
        o(),
      );
    if (plan.store) {
      const s = plan.store;
      const password = pulumi.secret(
        args.storePassword ??
          (args.apiKeys
            ? args.apiKeys.apply((k) => derivedStorePassword(k[0]!))
            : pulumi.output(derivedStorePassword(`${pulumi.getProject()}/${pulumi.getStack()}/${name}`))),
      );
      const authSecret = new k8s.core.v1.Secret(
        `${name}-redis-auth`,
        { metadata: s.authSecretMetadata, type: "Opaque", stringData: pulumi.output(password).apply(storeAuthData) },
        o(),
      );
      const volumeClaim = new k8s.core.v1.PersistentVolumeClaim(`${name}-redis-data`, s.volumeClaim, o());
      const deployment = new k8s.apps.v1.Deployment(
        `${name}-redis`,
        s.deployment,
        o({ dependsOn: [authSecret, volumeClaim] }),
      );
      this.redis = {
        authSecret,
        volumeClaim,
        deployment,
        service: new k8s.core.v1.Service(`${name}-redis`, s.service, o()),
        podDisruptionBudget: new k8s.policy.v1.PodDisruptionBudget(`${name}-redis`, s.podDisruptionBudget, o()),
        networkPolicy: new k8s.networking.v1.NetworkPolicy(`${name}-redis`, s.networkPolicy, o()),
      };
    }

    this.configMap = new k8s.core.v1.ConfigMap(`${name}-config`, plan.configMap, o());
    this.keysSecret = new k8s.core.v1.Secret(
      `${name}-keys`,
      {
        metadata: plan.keysSecretMetadata,
        type: "Opaque",
        stringData: {
          "keys.json": pulumi.secret(
            pulumi
              .all([
                args.apiKeys ?? [],
                pulumi.all((args.namedKeys ?? []).map((n) => n.key.apply((key) => ({ ...n, key })))),
              ])
              .apply(([keys, named]) => JSON.stringify(hashedKeys(keys, named, args.gateway.keys))),
          ),
        },
      },
      o(),
    );
    const pd = plan.discovery;
    this.discovery = {
      serviceAccount: new k8s.core.v1.ServiceAccount(`${name}-discovery`, pd.serviceAccount, o()),
      role: new k8s.rbac.v1.Role(`${name}-discovery`, pd.role, o()),
      roleBinding: new k8s.rbac.v1.RoleBinding(`${name}-discovery`, pd.roleBinding, o()),
      ...(pd.proxyRole && pd.proxyRoleBinding
        ? {
            proxyRole: new k8s.rbac.v1.Role(`${name}-proxy-discovery`, pd.proxyRole, o()),
            proxyRoleBinding: new k8s.rbac.v1.RoleBinding(`${name}-proxy-discovery`, pd.proxyRoleBinding, o()),
          }
        : {}),
    };
    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      plan.deployment,
      o({
        dependsOn: [
          this.configMap,
          this.keysSecret,
          this.discovery.roleBinding,
          ...(this.discovery.proxyRoleBinding ? [this.discovery.proxyRoleBinding] : []),
          ...(this.redis ? [this.redis.service, this.redis.authSecret] : []),
        ],
        // KEDA (or the HPA) owns the replica count once it runs: Pulumi sets it at creation only, as for the
        // models' Deployments; otherwise the next `pulumi up` after a scale-up fails on a server-side-apply
        // conflict over .spec.replicas.
        ...(plan.replicasOwnedByAutoscaler ? { ignoreChanges: ["spec.replicas"] } : {}),
      }),
    );
    this.service = new k8s.core.v1.Service(`${name}-service`, plan.service, o());
    this.metricsService = new k8s.core.v1.Service(`${name}-metrics-service`, plan.metricsService, o());
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, plan.networkPolicy, o());
    if (plan.podDisruptionBudget)
      this.podDisruptionBudget = new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, plan.podDisruptionBudget, o());
    if (plan.serviceMonitor)
      this.serviceMonitor = createServiceMonitor(
        `${name}-servicemonitor`,
        plan.serviceMonitor.metadata,
        plan.serviceMonitor.spec,
        o(),
      );
    if (plan.scaledObject)
      this.scaledObject = new k8s.apiextensions.CustomResource(
        `${name}-scaledobject`,
        plan.scaledObject,
        o({ dependsOn: [this.deployment] }),
      );
    if (plan.hpa)
      this.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        plan.hpa,
        o({ dependsOn: [this.deployment] }),
      );

    this.url = pulumi.output(plan.url);
    this.registerOutputs({ url: this.url });
  }
}
