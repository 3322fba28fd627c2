import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { Environment, IngressConfig, ModelConfig, SecretInputs } from "../config";
import { profileOf } from "../config/environments";
import { childOptions, formerlyNamed, standardLabels } from "../k8s/meta";
import { INGRESS_NAMESPACE, NAMESPACE_POD_SECURITY, podSecurityLabels } from "../k8s/namespaces";
import { controller } from "./controller";
import { gatewayRoute, publicBaseUrl, publicHost, routeTable } from "./routes";
import { installCertManager, issueCertificate } from "./tls";
import { usesCertManager } from "../k8s/cert-manager";
import { serviceExposure } from "./exposure";
import type { RouteLimits } from "./driver";

export interface IngressArgs {
  /** The `k8s.Provider` of the target cluster: every child is created with it. */
  readonly provider: k8s.Provider;
  /** `local`, `dev`, `staging` or `prod`: cloud environments require API keys and TLS, prod redirects to HTTPS. */
  readonly environment: Environment;
  /** The `ingress` config section: host, exposure, TLS mode, limits, body size and timeouts. Disabled: nothing is created. */
  readonly ingress: IngressConfig;
  /** The models to publish: one route (`/models/<name>/...`) and one rate-limit policy each. */
  readonly models: readonly ModelConfig[];
  /** Namespace the model Services live in. */
  readonly modelNamespace: pulumi.Input<string>;
  /** Undefined when the stack sets no keys (allowed in local only). */
  readonly apiKeys: SecretInputs["apiKeys"] | undefined;
  /**
   * Create ServiceMonitors for the controller and cert-manager (the Prometheus Operator CRDs must exist).
   * @default false
   */
  readonly monitoring?: boolean;
  /**
   * The gateway's Service: /v1/*, /rerank and /v2/rerank are routed to it (docs/gateway.md). With `namespace` (its
   * own namespace) the routes to it are objects in that namespace.
   * @default none: only the per-model routes
   */
  readonly gateway?: { readonly service: string; readonly port: number; readonly namespace?: string };
}

/** The one TLS entry point: NGINX controller, API-key auth, rate limits and a route per model. */
export class Ingress extends pulumi.ComponentResource {
  /** Public URL of each model's endpoint, by model name. */
  readonly urls: Record<string, pulumi.Output<string>> = {};
  /** The gateway's public base URL (OpenAI clients: this + "/v1"), when the stack runs one. */
  readonly gatewayUrl?: pulumi.Output<string>;
  /** What the ingress enforces on each model's public route, by model name (the post-deploy checks prove it). */
  readonly limits: Record<string, RouteLimits> = {};
  /** What it enforces on the gateway's public paths, when the stack runs the gateway. */
  readonly gatewayLimits?: RouteLimits;

  constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:ingress:Ingress", name, {}, opts);
    const { ingress, environment, provider } = args;
    if (!ingress.enabled) {
      this.registerOutputs({});
      return;
    }
    const profile = profileOf(environment);
    if (profile.cloud && !args.apiKeys)
      throw new Error(
        `Ingress: ${environment} exposes models publicly and needs API keys. Fix: pulumi config set --secret apiKeys '["<key of 16+ chars>"]'.`,
      );
    if (!profile.allowPlainHttp && ingress.tls.mode === "none")
      throw new Error(
        `Ingress: ${environment} must not serve API keys over plain HTTP. Fix: set ingress.tls.mode to acme, privateCa or secret.`,
      );
    if (!args.apiKeys)
      pulumi.log.warn(
        `Ingress: no apiKeys set, so the ${environment} entry point accepts requests without a key (rate-limited per client address). Set apiKeys to require one.`,
        this,
      );

    const routes = routeTable(args.models, ingress);
    const host = publicHost(ingress);
    const monitoring = args.monitoring ?? false;

    // Every child is named after the component (two ingresses in one stack never collide); the literal name a
    // child had before is its alias, so an existing stack keeps its objects.
    const namespaceName = `${name}-namespace`;
    const namespace = new k8s.core.v1.Namespace(
      namespaceName,
      {
        metadata: {
          name: INGRESS_NAMESPACE,
          labels: standardLabels(INGRESS_NAMESPACE, "ingress", {
            ...podSecurityLabels(NAMESPACE_POD_SECURITY[INGRESS_NAMESPACE]!.level),
            ...serviceExposure(environment, ingress).namespaceLabels,
          }),
        },
      },
      childOptions(this, provider, formerlyNamed(namespaceName, "ingress")),
    );
    const certManager = installCertManager({ name, parent: this, provider, tls: ingress.tls, monitoring });
    const installed = controller.install({
      name,
      parent: this,
      provider,
      environment,
      ingress,
      namespace: INGRESS_NAMESPACE,
      monitoring,
      certManager: usesCertManager(ingress.tls),
      dependsOn: [namespace, ...certManager],
    });
    const tls = issueCertificate({
      name,
      parent: this,
      provider,
      tls: ingress.tls,
      host,
      namespace: args.modelNamespace,
      ingressClass: controller.ingressClass,
      dependsOn: installed,
    });
    controller.publish({
      name,
      parent: this,
      provider,
      environment,
      ingress,
      namespace: args.modelNamespace,
      host,
      routes,
      ...(args.gateway
        ? {
            gateway: gatewayRoute(
              {
                name: args.gateway.service,
                port: args.gateway.port,
                ...(args.gateway.namespace ? { namespace: args.gateway.namespace } : {}),
              },
              ingress,
            ),
          }
        : {}),
      tlsSecretName: tls.secretName,
      apiKeys: args.apiKeys,
      dependsOn: [...installed, ...tls.ready],
    });

    const base = publicBaseUrl(environment, ingress);
    for (const r of routes) this.urls[r.model] = pulumi.output(`${base}${r.publicPath}`);
    if (args.gateway) this.gatewayUrl = pulumi.output(base);
    const enforced = controller.enforcedLimits({ environment, ingress, routes, auth: args.apiKeys !== undefined });
    Object.assign(this.limits, enforced.routes);
    if (args.gateway) this.gatewayLimits = enforced.gateway;
    this.registerOutputs({ urls: this.urls });
  }
}
