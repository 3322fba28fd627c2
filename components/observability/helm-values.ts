import type { ObservabilityConfig } from "../config";
import { CHARTS } from "../versions";
import { GPU_CLASS_LABEL, NODE_GROUP_LABEL } from "../k8s/meta";
import { MODEL_POD_LABEL } from "../serving/metric-labels";
import { INSTANCE_TYPE_NODE_LABEL } from "./cost/rules";
// The IngressClass the ingress component installs (Grafana opts in to it with grafana.exposeViaIngress).
import { INGRESS_CLASS } from "../ingress/nginx-ingress/chart";

/** kube-prometheus-stack, pinned (where it was confirmed: components/versions.ts). */
export const KUBE_PROMETHEUS_STACK = CHARTS.kubePrometheusStack;

/** Short object names (kps-prometheus, kps-alertmanager) instead of the release name repeated. */
const FULLNAME = "kps";
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
export const ALERTMANAGER_CONFIG_SECRET = "alertmanager-retrieval-stack";
/** The Grafana sidecar loads every ConfigMap with this label as a dashboard (chart default label). */
export const DASHBOARD_LABEL = { key: "grafana_dashboard", value: "1" } as const;
export const DASHBOARD_FOLDER_ANNOTATION = "grafana_folder";
export const DASHBOARD_FOLDER = "retrieval-stack";

/** Prometheus stops at this share of its volume, so the TSDB never fills the disk (retention by size). */
const RETENTION_SIZE_SHARE = 0.85;

/** Extra data sources for Grafana: the Loki of the log stack, when it is installed. */
interface GrafanaExtras {
  readonly lokiUrl?: string;
  /** uid of the Loki data source (the log dashboards reference it). */
  readonly lokiUid?: string;
}

export function kubePrometheusStackValues(
  obs: ObservabilityConfig,
  extras: GrafanaExtras = {},
): Record<string, unknown> {
  const pvc = (gib: number) => ({
    volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${gib}Gi` } } } },
  });
  const persistent = obs.storageGiB > 0;
  return {
    fullnameOverride: FULLNAME,
    crds: { enabled: true },
    prometheus: {
      prometheusSpec: {
        retention: obs.retention,
        ...(persistent
          ? {
              retentionSize: `${Math.floor(obs.storageGiB * RETENTION_SIZE_SHARE)}GB`,
              storageSpec: pvc(obs.storageGiB),
            }
          : {}),
        // Select ServiceMonitors, PodMonitors, PrometheusRules, Probes and ScrapeConfigs in every namespace,
        // whatever their labels: engines, DCGM exporter, ingress-nginx and KEDA each ship their own.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
        serviceMonitorNamespaceSelector: {},
        podMonitorNamespaceSelector: {},
        ruleNamespaceSelector: {},
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } },
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        // Our config lives in a Secret built from secret Outputs (receiver URLs); the chart must not render one.
        useExistingSecret: true,
        configSecret: ALERTMANAGER_CONFIG_SECRET,
        ...(persistent ? { storage: pvc(2) } : {}),
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
      },
    },
    grafana: {
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
      // Not public by default: reach it with `kubectl port-forward`, or opt in to the ingress.
      service: { type: "ClusterIP" },
      ingress: obs.grafana.exposeViaIngress
        ? { enabled: true, ingressClassName: INGRESS_CLASS, path: "/grafana", pathType: "Prefix" }
        : { enabled: false },
      ...(obs.grafana.exposeViaIngress
        ? { "grafana.ini": { server: { root_url: "%(protocol)s://%(domain)s/grafana/", serve_from_sub_path: true } } }
        : {}),
      // grafana.additionalDataSources (kube-prometheus-stack values.yaml, HEAD cf408a2, read 2026-12-01).
      ...(extras.lokiUrl
        ? {
            additionalDataSources: [
              { name: "Loki", type: "loki", uid: extras.lokiUid ?? "loki", url: extras.lokiUrl, access: "proxy" },
            ],
          }
        : {}),
      sidecar: {
        dashboards: {
          enabled: true,
          label: DASHBOARD_LABEL.key,
          labelValue: DASHBOARD_LABEL.value,
          folderAnnotation: DASHBOARD_FOLDER_ANNOTATION,
          provider: { foldersFromFilesStructure: true },
        },
      },
    },
    "kube-state-metrics": {
      // Export these Kubernetes labels as label_* so alerts and dashboards can find a model's pods and a node's group;
      // the cost rules price each node by its instance type (chart value metricLabelsAllowlist = KSM's
      // --metric-labels-allowlist: prometheus-community/helm-charts charts/kube-state-metrics/templates/deployment.yaml,
      // read 2026-12-07).
      metricLabelsAllowlist: [
        `pods=[${MODEL_POD_LABEL}]`,
        `nodes=[${NODE_GROUP_LABEL},${GPU_CLASS_LABEL},${INSTANCE_TYPE_NODE_LABEL}]`,
      ],
    },
  };
}
