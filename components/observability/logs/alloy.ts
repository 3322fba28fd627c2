/**
 * Grafana Alloy on every node, shipping every pod's log files to Loki, pinned: chart `alloy` 1.11.1 (Alloy
 * v1.18.1), grafana/alloy operations/helm/charts/alloy (tag helm-chart/1.11.1: Chart.yaml, values.yaml
 * alloy.configMap.content, alloy.mounts.varlog, controller.type/tolerations), published in
 * https://grafana.github.io/helm-charts index.yaml (gh-pages 970fce7, created 2026-08-06); components and meta
 * labels from docs/sources/reference/components (discovery.kubernetes, discovery.relabel, local.file_match,
 * loki.source.file, loki.process stage.cri, loki.write) at that tag; read 2026-12-01.
 */
import type { PinnedChart } from "../../k8s/helm";
import { CHARTS } from "../../versions";
import { MODEL_POD_LABEL } from "../../serving/metric-labels";

export const ALLOY_CHART: PinnedChart = CHARTS.alloy;

/** Pod label of the engine (ModelService sets it next to MODEL_POD_LABEL). */
const ENGINE_POD_LABEL = "retrieval-stack.io/engine";
/** The stream labels every log line gets: what the dashboards and LogQL select on. */
export const LOG_LABELS = ["namespace", "pod", "container", "app", "model", "engine"] as const;

/** Kubernetes service discovery names a pod label `a.b/c-d` `__meta_kubernetes_pod_label_a_b_c_d`. */
const podLabel = (k8sLabel: string) => `__meta_kubernetes_pod_label_${k8sLabel.replace(/[^A-Za-z0-9_]/g, "_")}`;

/**
 * The Alloy configuration (Alloy syntax): pods of this node, relabelled to our stream labels, their files under
 * /var/log/pods tailed, CRI lines unwrapped, pushed to Loki.
 */
export function alloyConfig(lokiPushUrl: string): string {
  const rule = (source: string, target: string) =>
    `  rule {\n    source_labels = ["${source}"]\n    target_label  = "${target}"\n  }`;
  return [
    `discovery.kubernetes "pods" {`,
    `  role = "pod"`,
    `  selectors {`,
    `    role  = "pod"`,
    `    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)`,
    `  }`,
    `}`,
    ``,
    `discovery.relabel "pods" {`,
    `  targets = discovery.kubernetes.pods.targets`,
    rule("__meta_kubernetes_namespace", "namespace"),
    rule("__meta_kubernetes_pod_name", "pod"),
    rule("__meta_kubernetes_pod_container_name", "container"),
    rule(podLabel("app.kubernetes.io/name"), "app"),
    rule(podLabel(MODEL_POD_LABEL), "model"),
    rule(podLabel(ENGINE_POD_LABEL), "engine"),
    `  rule {`,
    `    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]`,
    `    separator     = "/"`,
    `    target_label  = "__path__"`,
    `    replacement   = "/var/log/pods/*$1/*.log"`,
    `  }`,
    `}`,
    ``,
    `local.file_match "pods" {`,
    `  path_targets = discovery.relabel.pods.output`,
    `}`,
    ``,
    `loki.source.file "pods" {`,
    `  targets    = local.file_match.pods.targets`,
    `  forward_to = [loki.process.pods.receiver]`,
    `}`,
    ``,
    `loki.process "pods" {`,
    `  stage.cri {}`,
    `  forward_to = [loki.write.loki.receiver]`,
    `}`,
    ``,
    `loki.write "loki" {`,
    `  endpoint {`,
    `    url = "${lokiPushUrl}"`,
    `  }`,
    `}`,
    ``,
  ].join("\n");
}

/**
 * Where Alloy keeps its state (loki.source.file's read positions): a directory on the node, so a restarted or
 * replaced Alloy pod resumes where the last one stopped instead of re-reading (and re-sending) every pod log. The
 * chart's default `alloy.storagePath` is /tmp/alloy in the container, lost on every restart. Chart values
 * alloy.storagePath (passed as --storage.path), alloy.mounts.extra, controller.volumes.extra and
 * alloy.enableReporting (false adds --disable-reporting): values.yaml and templates/containers/_agent.yaml,
 * templates/controllers/_pod.yaml at grafana/alloy tag helm-chart/1.11.1 (233907c), read 2026-12-07.
 */
const ALLOY_STORAGE_PATH = "/var/lib/alloy";
const ALLOY_STATE_HOST_PATH = "/var/lib/retrieval-stack/alloy";

export function alloyValues(lokiPushUrl: string): Record<string, unknown> {
  return {
    alloy: {
      configMap: { create: true, content: alloyConfig(lokiPushUrl) },
      // The kubelet writes every container's log under /var/log/pods on the node.
      mounts: { varlog: true, extra: [{ name: "alloy-state", mountPath: ALLOY_STORAGE_PATH }] },
      storagePath: ALLOY_STORAGE_PATH,
      // No anonymous usage reports to Grafana Labs from a production cluster.
      enableReporting: false,
      resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
    },
    controller: {
      type: "daemonset",
      // Every node, GPU nodes (tainted nvidia.com/gpu) included: the models run there.
      tolerations: [{ operator: "Exists" }],
      volumes: {
        extra: [{ name: "alloy-state", hostPath: { path: ALLOY_STATE_HOST_PATH, type: "DirectoryOrCreate" } }],
      },
    },
  };
}
