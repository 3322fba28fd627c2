import * as pulumi from "@pulumi/pulumi";
import { dashboardConfigMap } from "../dashboard-configmap";
import * as k8s from "@pulumi/kubernetes";
import * as aws from "@pulumi/aws";
import { profileOf, type Environment, type ModelConfig, type ObservabilityConfig } from "../../config";
import { childOptions, derivedChild, formerlyNamed } from "../../k8s/meta";
import { pinnedRelease } from "../../k8s/helm";
import { INGRESS_NAMESPACE, MODELS_NAMESPACE, MONITORING_NAMESPACE } from "../../k8s/namespaces";
import { irsaRole } from "../../cluster/iam";
import { ALLOY_CHART, alloyValues } from "./alloy";
import { LOKI_CHART, LOKI_EXPIRING_PREFIXES, LOKI_NAME, lokiBucketPolicy, lokiUrl, lokiValues } from "./loki";
import { gatewayAuditDashboard, modelLogsDashboard } from "./dashboards";
import type { AuditSource } from "./queries";

/** Logs are on by default in cloud stacks (observability.logs.enabled overrides). */
export function logsEnabled(obs: ObservabilityConfig, environment: Environment): boolean {
  return obs.enabled && (obs.logs.enabled ?? profileOf(environment).cloud);
}

const DURATION_HOURS: Record<string, number> = {
  ms: 1 / 3_600_000,
  s: 1 / 3600,
  m: 1 / 60,
  h: 1,
  d: 24,
  w: 168,
  y: 8760,
};

/** Log retention in whole hours (at least 24): observability.logs.retention, else observability.retention. */
export function logRetentionHours(obs: ObservabilityConfig): number {
  const text = obs.logs.retention ?? obs.retention;
  const m = /^([0-9]+)(ms|s|m|h|d|w|y)$/.exec(text);
  return Math.max(24, Math.ceil(Number(m?.[1] ?? 0) * (DURATION_HOURS[m?.[2] ?? "h"] ?? 1)));
}

/** The default audit source: the gateway's container in the ingress namespace (components/k8s/namespaces). */
const DEFAULT_AUDIT_SOURCE: AuditSource = { namespace: INGRESS_NAMESPACE, container: "gateway" };

export interface LogStackArgs {
  readonly provider: k8s.Provider;
  readonly environment: Environment;
  readonly observability: ObservabilityConfig;
  readonly models: readonly ModelConfig[];
  /** Namespace of Loki and Alloy (default MONITORING_NAMESPACE, next to Grafana). */
  readonly namespace?: string;
  /** Namespace of the model pods, for the "Model logs" dashboard (default MODELS_NAMESPACE). */
  readonly modelsNamespace?: string;
  /** Where the gateway's JSON audit lines come from (default: container "gateway" in INGRESS_NAMESPACE). */
  readonly audit?: AuditSource;
  /**
   * Cloud stacks: the S3 bucket's region and the cluster's IAM OIDC provider (the Cluster's EKS outputs, as the
   * load-balancer controller's IRSA role uses them). Without it Loki keeps its chunks on its volume.
   */
  readonly aws?: {
    readonly region: string;
    readonly oidcProviderArn: pulumi.Input<string>;
    readonly oidcIssuer: pulumi.Input<string>;
    readonly tags?: Record<string, string>;
  };
  /** Resources Loki's release waits for (the namespace). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * The name this LogStack had in stacks created before its name derived from its parent's: each child keeps its
   * state under the name it had then (an alias), so no bucket, role or release is replaced.
   */
  readonly formerName?: string;
}

/**
 * Logs next to metrics: Loki (single binary; chunks in an encrypted S3 bucket of ours whose lifecycle rule matches
 * the retention, reached through an IRSA role only Loki's service account can assume; the pod's volume in local),
 * Grafana Alloy on every node shipping every pod's logs with namespace/pod/container/app/model/engine labels, and
 * the "Model logs" and "Gateway audit" dashboards. Grafana's Loki data source comes with kube-prometheus-stack's
 * values (helm-values.ts).
 */
export class LogStack extends pulumi.ComponentResource {
  readonly url: string;
  readonly bucket?: aws.s3.Bucket;
  readonly role?: aws.iam.Role;
  readonly loki: k8s.helm.v3.Release;
  readonly alloy: k8s.helm.v3.Release;

  constructor(name: string, args: LogStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:observability:LogStack", name, {}, opts);
    const ns = args.namespace ?? MONITORING_NAMESPACE;
    this.url = lokiUrl(ns);
    const retentionHours = logRetentionHours(args.observability);
    const storageGiB = args.observability.logs.storageGiB;
    // Without `aws` (the local stack, or a cluster this stack did not create, whose OIDC provider we do not know)
    // Loki keeps its chunks on its own volume: logs still work, for as long as that volume lives.
    // A child's options: parented here, and aliased to the name it had under the former LogStack name.
    const as = (suffix: string): pulumi.CustomResourceOptions => ({
      parent: this,
      ...(args.formerName ? formerlyNamed(`${name}${suffix}`, `${args.formerName}${suffix}`) : {}),
    });

    let storage: pulumi.Output<Parameters<typeof lokiValues>[0]["storage"]>;
    if (args.aws) {
      const tags = args.aws.tags ?? {};
      const bucket = new aws.s3.Bucket(`${name}-loki`, { forceDestroy: false, tags }, as("-loki"));
      new aws.s3.BucketPublicAccessBlock(
        `${name}-loki`,
        {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        as("-loki"),
      );
      new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-loki`,
        {
          bucket: bucket.id,
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
        },
        as("-loki"),
      );
      // The compactor deletes expired chunks; the lifecycle rules are the backstop with the same retention, so no
      // chunk or index table outlives it even when the compactor does not run. Scoped to those prefixes: the
      // cluster seed and the compactor's pending delete requests must never expire (loki.ts LOKI_EXPIRING_PREFIXES).
      new aws.s3.BucketLifecycleConfiguration(
        `${name}-loki`,
        {
          bucket: bucket.id,
          rules: LOKI_EXPIRING_PREFIXES.map((prefix, i) => ({
            id: `log-retention-${i === 0 ? "chunks" : "index"}`,
            status: "Enabled",
            filter: { prefix },
            expiration: { days: Math.ceil(retentionHours / 24) },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          })),
        },
        as("-loki"),
      );
      new aws.s3.BucketPolicy(
        `${name}-loki-tls-only`,
        {
          bucket: bucket.id,
          policy: bucket.arn.apply((arn) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Sid: "DenyPlainHttp",
                  Effect: "Deny",
                  Principal: "*",
                  Action: "s3:*",
                  Resource: [arn, `${arn}/*`],
                  Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
              ],
            }),
          ),
        },
        as("-loki-tls-only"),
      );
      const role = irsaRole(
        `${name}-loki`,
        {
          oidcProviderArn: args.aws.oidcProviderArn,
          oidcIssuer: args.aws.oidcIssuer,
          namespace: ns,
          serviceAccount: LOKI_NAME,
          policy: bucket.arn.apply((arn) => JSON.stringify(lokiBucketPolicy(arn))),
          tags,
          ...(args.formerName ? { formerName: `${args.formerName}-loki` } : {}),
        },
        this,
      );
      this.bucket = bucket;
      this.role = role;
      const region = args.aws.region;
      storage = pulumi
        .all([bucket.bucket, role.arn])
        .apply(([b, roleArn]) => ({ type: "s3" as const, bucket: b, region, roleArn }));
    } else storage = pulumi.output({ type: "filesystem" as const });

    // The releases and dashboards had literal names ("loki", "alloy", "dashboard-<uid>"): those are their aliases.
    const loki = derivedChild(name, "loki", "loki");
    const alloy = derivedChild(name, "alloy", "alloy");
    this.loki = pinnedRelease(
      loki.name,
      {
        name: LOKI_NAME,
        namespace: ns,
        chart: LOKI_CHART,
        values: storage.apply((s) => lokiValues({ storage: s, retentionHours, storageGiB })),
      },
      childOptions(this, args.provider, { dependsOn: args.dependsOn, ...loki.opts }),
    );
    this.alloy = pinnedRelease(
      alloy.name,
      { name: "alloy", namespace: ns, chart: ALLOY_CHART, values: alloyValues(`${this.url}/loki/api/v1/push`) },
      childOptions(this, args.provider, { dependsOn: [this.loki], ...alloy.opts }),
    );

    const modelsNamespace = args.modelsNamespace ?? MODELS_NAMESPACE;
    for (const d of [
      modelLogsDashboard(
        args.models.map((m) => m.name),
        modelsNamespace,
      ),
      gatewayAuditDashboard(args.audit ?? DEFAULT_AUDIT_SOURCE),
    ])
      dashboardConfigMap(name, d, ns, childOptions(this, args.provider, { dependsOn: args.dependsOn }));
    this.registerOutputs({ url: this.url });
  }
}
