import { chunkBySize, chunkName } from "../k8s/object-size";
import * as pulumi from "@pulumi/pulumi";
import { dashboardConfigMap } from "./dashboard-configmap";
import * as k8s from "@pulumi/kubernetes";
import * as YAML from "yaml";
import { profileOf, type Environment, type ModelConfig, type ObservabilityConfig, type SecretInputs } from "../config";
import { childOptions, derivedChild, formerlyNamed, standardLabels } from "../k8s/meta";
import type { IngressMetricsConfig } from "../ingress/metrics";
import { MODELS_NAMESPACE, MONITORING_NAMESPACE, NAMESPACE_POD_SECURITY, podSecurityLabels } from "../k8s/namespaces";
import { alertmanagerPolicySpec } from "../k8s/network-policies";
import { buildRuleGroups } from "./alert-rules";
import { LogStack, logsEnabled, type LogStackArgs } from "./logs/log-stack";
import { LOKI_DATASOURCE_UID } from "./logs/dashboards";
import { lokiUrl } from "./logs/loki";
import { bridgeTargets, buildAlertmanagerConfig, isBridged } from "./alertmanager-config";
import { CHAT_BRIDGE_POD_LABELS, CHAT_BRIDGE_PORT, chatBridgeUrl, createChatBridge } from "./chat-bridge";
import { buildDashboards } from "./dashboards";
import { pinnedRelease } from "../k8s/helm";
import { createCostObjects, type CostArgs } from "./cost/resources";
import {
  ALERTMANAGER_CONFIG_SECRET,
  GRAFANA_ADMIN_SECRET,
  KUBE_PROMETHEUS_STACK,
  kubePrometheusStackValues,
} from "./helm-values";

export interface ObservabilityArgs {
  /** The `k8s.Provider` of the target cluster: every child is created with it. */
  readonly provider: k8s.Provider;
  /** `local`, `dev`, `staging` or `prod`: retention, replicas and whether logs are on by default follow it. */
  readonly environment: Environment;
  /** The `observability` config section: alert thresholds, receivers, retention, canary, logs. */
  readonly observability: ObservabilityConfig;
  /** The stack's models: their alert rules (from each engine's metric declarations) and dashboards. */
  readonly models: readonly ModelConfig[];
  /** Secrets: `grafanaAdminPassword` (required) and `alertReceiverUrls` (one per receiver that names one). */
  readonly secrets: Pick<SecretInputs, "grafanaAdminPassword" | "alertReceiverUrls">;
  /**
   * Namespace of the model pods: alert and dashboard queries select it.
   * @default "retrieval" (MODELS_NAMESPACE)
   */
  readonly modelsNamespace?: string;
  /**
   * The stack's ingress (config.ingress): when enabled, models whose engine counts no failures are alerted and
   * graphed on the 5xx answers the ingress controller got from them.
   * @default none: no ingress measurement
   */
  readonly ingress?: IngressMetricsConfig;
  /**
   * The stack's API gateway: when enabled, its alerts (error ratio per key and model, breaker, quota, Redis).
   * @default none: no gateway alerts
   */
  readonly gateway?: { readonly enabled: boolean };
  /**
   * The stack deploys the quality canary (a QualityCanary, constructed after the models it calls): with
   * observability.canary enabled, its alerts (ModelQualityLow, CanaryCheckFailing, CanaryStale) join every model's
   * group and the model dashboards get a "Quality (canary)" row.
   * @default none: no canary alerts (they would watch series nobody exports)
   */
  readonly canary?: { readonly enabled: boolean };
  /**
   * Install the log stack (Loki, Alloy, log dashboards) where observability.logs is enabled (default: cloud
   * stacks). Cloud stacks pass `aws` (region and the cluster's OIDC provider) for the S3 bucket and IRSA role.
   * @default none: no log stack
   */
  readonly logs?: Pick<LogStackArgs, "aws" | "audit">;
  /**
   * Nodes, prices and budgets: GPU cost per model and key, budget alerts and their dashboard (docs/cost.md).
   * @default none: no cost rules
   */
  readonly cost?: CostArgs;
}

/** Name of the PrometheusRule that holds the stack's alerts (the first of several in a stack of many models). */
export const ALERT_RULES_NAME = "retrieval-stack-alerts";

/**
 * kube-prometheus-stack (Prometheus, Alertmanager, Grafana, kube-state-metrics), the stack's alert rules, the
 * Alertmanager routing to chat receivers, and Grafana dashboards as code. With `observability.enabled: false`
 * it creates nothing.
 */
export class Observability extends pulumi.ComponentResource {
  /** Namespace of Prometheus, Alertmanager and Grafana (other components' NetworkPolicies admit it). */
  readonly namespace: string = MONITORING_NAMESPACE;
  /** Loki, Alloy and the log dashboards, when `logs` was given and logs are enabled. */
  readonly logStack?: LogStack;
  /**
   * What other components' ServiceMonitors, PodMonitors and ScaledObjects wait for: the kube-prometheus-stack
   * release (its CRDs and operator are up once it is), or this component itself when observability is off. Depend
   * on this, not on the component: a dependency on the component expands to every child (a dashboard and rule
   * groups per model), so N models depending on it cost N x N in the engine and in the plan.
   */
  readonly crds: pulumi.Resource = this;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:observability:Observability", name, {}, opts);
    const obs = args.observability;
    if (!obs.enabled) {
      this.registerOutputs({});
      return;
    }
    const { grafanaAdminPassword, alertReceiverUrls } = args.secrets;
    if (!grafanaAdminPassword)
      throw new Error(
        "Observability: the secret grafanaAdminPassword is not set. Fix: pulumi config set --secret grafanaAdminPassword <12+ characters>.",
      );
    if (obs.receivers.length > 0 && !alertReceiverUrls)
      throw new Error(
        `Observability: receivers ${obs.receivers.map((r) => r.name).join(", ")} need the secret alertReceiverUrls. Fix: pulumi config set --secret --path 'alertReceiverUrls.<urlSecretKey>' <webhook URL>.`,
      );

    // Every child is named after the component (two in one stack never collide); the literal name a child had
    // before is its alias, so an existing stack keeps its objects.
    const child = (formerName: string, extra: pulumi.CustomResourceOptions = {}) => {
      const c = derivedChild(name, formerName, formerName);
      return { name: c.name, opts: childOptions(this, args.provider, { ...extra, ...c.opts }) };
    };
    const ns = MONITORING_NAMESPACE;
    const modelsNamespace = args.modelsNamespace ?? MODELS_NAMESPACE;
    const nsChild = derivedChild(name, "namespace", "monitoring");
    const namespace = new k8s.core.v1.Namespace(
      nsChild.name,
      {
        metadata: {
          name: ns,
          labels: standardLabels("monitoring", "observability", podSecurityLabels(NAMESPACE_POD_SECURITY[ns]!.level)),
        },
      },
      childOptions(this, args.provider, nsChild.opts),
    );
    const inNs = childOptions(this, args.provider, { dependsOn: [namespace] });

    const grafanaChild = child(GRAFANA_ADMIN_SECRET, { dependsOn: [namespace] });
    const grafanaAdmin = new k8s.core.v1.Secret(
      grafanaChild.name,
      {
        metadata: { name: GRAFANA_ADMIN_SECRET, namespace: ns, labels: standardLabels("grafana", "observability") },
        type: "Opaque",
        stringData: { "admin-user": "admin", "admin-password": grafanaAdminPassword },
      },
      grafanaChild.opts,
    );

    // The receivers' URLs exist only inside this secret Output: the Alertmanager config and the bridge targets
    // are rendered from it and stored as Secrets, never as plain Helm values.
    const urls: pulumi.Output<Record<string, string>> = pulumi.secret(alertReceiverUrls ?? pulumi.output({}));
    const bridgeBase = chatBridgeUrl(ns);
    const alertmanagerYaml = urls.apply((u) =>
      YAML.stringify(buildAlertmanagerConfig(obs.receivers, u, bridgeBase), { lineWidth: 0 }),
    );
    const alertmanagerChild = child(ALERTMANAGER_CONFIG_SECRET, { dependsOn: [namespace] });
    const alertmanagerConfig = new k8s.core.v1.Secret(
      alertmanagerChild.name,
      {
        metadata: {
          name: ALERTMANAGER_CONFIG_SECRET,
          namespace: ns,
          labels: standardLabels("alertmanager", "observability"),
        },
        type: "Opaque",
        stringData: { "alertmanager.yaml": pulumi.secret(alertmanagerYaml) },
      },
      alertmanagerChild.opts,
    );
    if (obs.receivers.some(isBridged))
      createChatBridge({
        component: name,
        parent: this,
        provider: args.provider,
        namespace: namespace.metadata.name,
        targetsJson: urls.apply((u) => JSON.stringify(bridgeTargets(obs.receivers, u))),
        replicas: profileOf(args.environment).minReplicasFloor >= 2 ? 2 : 1,
      });

    const alertmanagerPolicy = child("alertmanager-netpol", { dependsOn: [namespace] });
    new k8s.networking.v1.NetworkPolicy(
      alertmanagerPolicy.name,
      {
        metadata: { name: "alertmanager", namespace: ns, labels: standardLabels("alertmanager", "observability") },
        spec: alertmanagerPolicySpec({ podLabels: CHAT_BRIDGE_POD_LABELS, port: CHAT_BRIDGE_PORT }),
      },
      alertmanagerPolicy.opts,
    );
    const withLogs = !!args.logs && logsEnabled(obs, args.environment);
    const releaseChild = child("kube-prometheus-stack", { dependsOn: [namespace, grafanaAdmin, alertmanagerConfig] });
    const release = (this.crds = pinnedRelease(
      releaseChild.name,
      {
        name: "kube-prometheus-stack",
        namespace: ns,
        chart: KUBE_PROMETHEUS_STACK,
        values: kubePrometheusStackValues(obs, withLogs ? { lokiUrl: lokiUrl(ns), lokiUid: LOKI_DATASOURCE_UID } : {}),
        // (pinnedRelease waits: the CRDs and the operator are up before our PrometheusRule and ServiceMonitors.)
      },
      releaseChild.opts,
    ));

    if (withLogs)
      this.logStack = new LogStack(
        `${name}-logs`,
        {
          ...args.logs,
          formerName: "logs",
          provider: args.provider,
          environment: args.environment,
          observability: obs,
          models: args.models,
          namespace: ns,
          modelsNamespace,
          dependsOn: [namespace],
        },
        { parent: this, ...formerlyNamed(`${name}-logs`, "logs") },
      );
    const canary = args.canary?.enabled && obs.canary.enabled ? obs.canary : undefined;

    // One PrometheusRule per ~512 KiB of rule groups (components/k8s/object-size.ts): one object of every group
    // passes etcd's 1.5 MiB request limit from about 140 models.
    const ruleGroups = buildRuleGroups({
      models: args.models,
      thresholds: obs.alerts,
      runbookBaseUrl: obs.runbookBaseUrl,
      modelsNamespace,
      ingress: args.ingress,
      gateway: args.gateway,
      canary,
    });
    chunkBySize(ruleGroups).forEach((groups, i) => {
      const ruleName = chunkName(ALERT_RULES_NAME, i);
      const rules = child(ruleName, { dependsOn: [release] });
      new k8s.apiextensions.CustomResource(
        rules.name,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PrometheusRule",
          metadata: { name: ruleName, namespace: ns, labels: standardLabels(ruleName, "observability") },
          spec: { groups },
        },
        rules.opts,
      );
    });

    if (args.cost)
      createCostObjects(
        name,
        { ...args.cost, models: args.models, modelsNamespace, runbookBaseUrl: obs.runbookBaseUrl },
        ns,
        {
          ...inNs,
          dependsOn: [namespace, release],
        },
      );
    for (const d of buildDashboards(args.models, modelsNamespace, undefined, args.ingress, {
      canary,
      gateway: args.gateway,
      logs: withLogs,
    }))
      dashboardConfigMap(name, d, ns, inNs);
    this.registerOutputs({ namespace: ns });
  }
}

export { buildRuleGroups, type RuleGroup, type AlertingRule } from "./alert-rules";
export { buildAlertmanagerConfig } from "./alertmanager-config";
export { buildDashboards } from "./dashboards";
export { ALERT_CATALOGUE, ALERT_NAMES, type AlertName } from "./alert-catalogue";
export { QualityCanary, type QualityCanaryArgs } from "./quality-canary";
export { LogStack, logsEnabled, type LogStackArgs } from "./logs/log-stack";
