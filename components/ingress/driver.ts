/**
 * The interface of the controller behind the Ingress component. Everything controller-specific (Helm chart, CRDs,
 * how auth and rate limits are expressed) sits behind it; switching controllers means writing one driver module
 * and changing the `controller` export of controller.ts. Types only, so drivers import it without a cycle.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import type { Environment } from "../config/common";
import type { IngressConfig } from "../config/ingress";
import type { GatewayRoute, ModelRoute } from "./routes";
import type { EdgePage } from "./responses";

export interface ControllerInstallArgs {
  /** The Ingress component's name: every resource name derives from it (two ingresses in one stack never collide). */
  readonly name: string;
  readonly parent: pulumi.Resource;
  readonly provider: k8s.Provider;
  readonly environment: Environment;
  readonly ingress: IngressConfig;
  /** Namespace the controller runs in (created by the component). */
  readonly namespace: string;
  /** Create ServiceMonitor objects (the Prometheus Operator CRDs must exist). */
  readonly monitoring: boolean;
  /** cert-manager issues the certificate (ACME HTTP-01 needs the controller to serve its solver). */
  readonly certManager: boolean;
  readonly dependsOn: pulumi.Resource[];
}

export interface ControllerPublishArgs {
  /** The Ingress component's name: every resource name derives from it. */
  readonly name: string;
  readonly parent: pulumi.Resource;
  readonly provider: k8s.Provider;
  readonly environment: Environment;
  readonly ingress: IngressConfig;
  /** Namespace of the model Services: route objects live beside them. */
  readonly namespace: pulumi.Input<string>;
  readonly host: string;
  readonly routes: readonly ModelRoute[];
  /** The gateway's route (/v1/*, /rerank, /v2/rerank), when the stack runs one. */
  readonly gateway?: GatewayRoute;
  /** kubernetes.io/tls Secret in `namespace`; undefined = plain HTTP (local only). */
  readonly tlsSecretName: string | undefined;
  /** API keys as a secret Output; undefined = no authentication (local only). */
  readonly apiKeys: pulumi.Output<string[]> | undefined;
  readonly dependsOn: pulumi.Resource[];
}

/** PromQL over the controller's own metrics (install() scrapes them when `monitoring` is on). */
export interface IngressControllerMetrics {
  /** Every metric name the builders below read (observability's metric allow-list includes them). */
  readonly metricNames: readonly string[];
  /**
   * Share (0..1), over `window`, of the requests the controller proxied to `service` in `namespace` that the
   * upstream answered with a 5xx: the server errors clients saw. Only responses that came from an upstream count.
   */
  serverErrorRatio(target: { readonly service: string; readonly namespace: string }, window: string): string;
  /** The two rates behind serverErrorRatio (answers/s with a 5xx, all answers/s), to add to other sources. */
  serverErrorRates(
    target: { readonly service: string; readonly namespace: string },
    window: string,
  ): { readonly failed: string; readonly all: string };
}

export interface IngressControllerDriver {
  /** Shown in plan.md and the README. */
  readonly displayName: string;
  /** IngressClass the controller watches (cert-manager's HTTP-01 solver uses it). */
  readonly ingressClass: string;
  /**
   * The controller's Service in its namespace: the gateway trusts X-Forwarded-For from the pods its EndpointSlices
   * list (the controller appends the client's address to the header).
   */
  readonly proxyService: string;
  /** Installs the controller; returns what route objects must wait for. */
  install(args: ControllerInstallArgs): pulumi.Resource[];
  /** Publishes the routes with auth, rate limits, body size, timeouts and TLS; returns the created resources. */
  publish(args: ControllerPublishArgs): pulumi.Resource[];
  readonly metrics: IngressControllerMetrics;
  /**
   * What the published objects make the controller enforce on each model route (by model name) and on the
   * gateway's paths: body size and the rate limit summed over its pods. The post-deploy checks prove it on the
   * public path.
   */
  enforcedLimits(args: EnforcedLimitsArgs): { routes: Record<string, RouteLimits>; gateway: RouteLimits };
}

/** What the ingress enforces on one public path, and the pages it answers with (the verifier's edge.* checks). */
export interface RouteLimits {
  /** Body limit as configured (NGINX size), and in bytes. */
  readonly maxBodySize: string;
  readonly maxBodyBytes: number;
  readonly tooLarge: EdgePage;
  /** Absent where the ingress answers no 429 of its own (the gateway's paths). */
  readonly rateLimit?: {
    /** Summed over the controller pods, each of which counts its own share. */
    readonly requestsPerSecond: number;
    readonly burst: number;
    readonly replicas: number;
    /** Counted per API key rather than per client address. */
    readonly perKey: boolean;
    readonly page: EdgePage;
  };
}

export interface EnforcedLimitsArgs {
  readonly environment: Environment;
  readonly ingress: IngressConfig;
  readonly routes: readonly ModelRoute[];
  /** API keys are checked (limits count per key), else per client address. */
  readonly auth: boolean;
}
