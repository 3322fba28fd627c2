/**
 * Namespaces the components agree on. The NetworkPolicies of the model Services admit traffic only from the
 * ingress and monitoring namespaces named here, so the ingress and observability components must install
 * into exactly these (import the constants, never retype the strings).
 */
/** Model engines (ModelService objects). */
export const MODELS_NAMESPACE = "retrieval";
/** The NGINX Ingress Controller (the gateway has a namespace of its own: config gateway.namespace). */
export const INGRESS_NAMESPACE = "ingress";
/** kube-prometheus-stack (Prometheus scrapes the engines' metrics ports). */
export const MONITORING_NAMESPACE = "monitoring";
/** KEDA operator and metrics API server. */
export const KEDA_NAMESPACE = "keda";
/** Verification Job (calls the engines directly after deploy). */
export const VERIFICATION_NAMESPACE = MODELS_NAMESPACE;

/** The label Kubernetes sets on every namespace (1.22+): NetworkPolicies select namespaces by it. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/**
 * Prometheus inside the cluster: the Prometheus Operator creates the `prometheus-operated` Service for every
 * Prometheus it runs, whatever the Helm release is called (prometheus-operator docs, read 2026-11).
 */
export const PROMETHEUS_URL = `http://prometheus-operated.${MONITORING_NAMESPACE}.svc:9090`;

/**
 * Pods in the models namespace that may call the engines directly (the verification Job, an in-namespace
 * gateway) carry this label with the value "true"; the engines' NetworkPolicy admits them.
 */
export const ENGINE_CLIENT_LABEL = "retrieval-stack.io/engine-client";

/**
 * The verification Job's pods carry this label with the value "true". Every scale-to-zero model counts such pods
 * as demand (a KEDA kubernetes-workload trigger, components/serving/autoscaling.ts), so a verification run
 * outside the model's working hours wakes it instead of failing against no pod.
 */
export const VERIFIER_POD_LABEL = "retrieval-stack.io/verifier";

/**
 * Pod Security Standards levels (Pod Security Admission, built into Kubernetes 1.25+). Every namespace we create
 * carries labels for one, with the reason in NAMESPACE_POD_SECURITY (docs/security.md).
 */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * PSA labels: enforce (and warn on apply) at `level`; audit always at restricted, so the API server's audit log
 * names every pod that falls short of restricted even where a lower level is enforced.
 */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/warn": level,
    "pod-security.kubernetes.io/audit": "restricted",
  };
}

/**
 * PSA labels with each mode pinned to a policy version ("v1.35"), so that a control-plane upgrade never tightens or
 * loosens the rules the namespace's pods were checked against (kubernetes.io "Enforce Pod Security Standards with
 * Namespace Labels": `pod-security.kubernetes.io/<MODE>-version`, a minor version or `latest`, read 2026-12-07).
 * A version newer than the API server is evaluated as its `latest` (KEP-2579 README, Monitoring: "Explicit versions
 * greater than the build of the API server ... are evaluated as latest"; kubernetes/enhancements 026a9f6).
 */
export function pinnedPodSecurityLabels(level: PodSecurityLevel, kubernetesMinor: string): Record<string, string> {
  const version = `v${kubernetesMinor}`;
  return {
    ...podSecurityLabels(level),
    "pod-security.kubernetes.io/enforce-version": version,
    "pod-security.kubernetes.io/warn-version": version,
    "pod-security.kubernetes.io/audit-version": version,
  };
}

/** Default name of the namespace of the gateway, its Redis and the quality canary (config gateway.namespace). */
export const DEFAULT_GATEWAY_NAMESPACE = "retrieval-gateway";

/** Why the gateway's namespace (config gateway.namespace) can enforce restricted, unlike the engines'. */
export const GATEWAY_NAMESPACE_POD_SECURITY: { level: PodSecurityLevel; why: string } = {
  level: "restricted",
  why: "the gateway, its Redis and the quality canary run as fixed non-root users with seccomp RuntimeDefault, no privilege escalation, all capabilities dropped and only configMap, secret and persistentVolumeClaim volumes (components/k8s/pod-security.ts; test/gateway-namespace.test.ts checks every pod rendered there against the restricted rules).",
};

/** The gateway's Namespace object (metadata only): restricted, pinned to the cluster's Kubernetes minor version. */
export function gatewayNamespaceMetadata(name: string, kubernetesMinor: string) {
  return {
    name,
    labels: {
      "app.kubernetes.io/part-of": "retrieval-stack",
      "app.kubernetes.io/component": "gateway",
      ...pinnedPodSecurityLabels(GATEWAY_NAMESPACE_POD_SECURITY.level, kubernetesMinor),
    },
  };
}

/** The level each namespace gets, and why it is not restricted where it is not. */
export const NAMESPACE_POD_SECURITY: Readonly<Record<string, { level: PodSecurityLevel; why: string }>> = {
  [INGRESS_NAMESPACE]: {
    level: "restricted",
    why: "NGINX Ingress Controller's chart runs as UID 101, non-root, no privilege escalation, all capabilities dropped but NET_BIND_SERVICE (which restricted allows), seccomp RuntimeDefault (chart 2.5.1 values.yaml and controller-deployment.yaml; unchanged in 2.6.4).",
  },
  "cert-manager": {
    level: "restricted",
    why: "cert-manager's chart sets runAsNonRoot, seccomp RuntimeDefault, no privilege escalation and drops all capabilities on every component (v1.20.2 values.yaml).",
  },
  [KEDA_NAMESPACE]: {
    level: "restricted",
    why: "KEDA's chart runs the operator, metrics server and webhooks with runAsNonRoot, all capabilities dropped, no privilege escalation, a read-only root filesystem and seccomp RuntimeDefault (kedacore/charts v2.20.2 keda/values.yaml securityContext and podSecurityContext, read 2026-12-01).",
  },
  kserve: {
    level: "restricted",
    why: "KServe's controller runs non-root with seccomp RuntimeDefault, all capabilities dropped and no privilege escalation (kserve/kserve v0.20.0 charts/kserve-resources/values.yaml kserve.controller.securityContext and containerSecurityContext, read 2026-12-01); the model pods run in the models namespace, not here.",
  },
  "gpu-runtime": {
    level: "privileged",
    why: "the NVIDIA device plugin mounts the kubelet's device-plugin socket directory (hostPath) and the DCGM exporter needs host access to the GPUs: neither baseline nor restricted allows hostPath volumes.",
  },
  [MONITORING_NAMESPACE]: {
    level: "privileged",
    why: "kube-prometheus-stack's node exporter (on by default) runs with the host's network, PID namespace and root filesystem (hostPath): only privileged allows them.",
  },
  [MODELS_NAMESPACE]: {
    level: "privileged",
    why: "model pods mount the node-local weight cache (hostPath, forbidden by baseline) and vLLM/SGLang images run as root; audit at restricted lists them.",
  },
};

/** Pods of one workload in one namespace, as a NetworkPolicy selects them. */
export interface PodPeer {
  readonly namespace: string;
  readonly podLabels: Readonly<Record<string, string>>;
}

/**
 * The ingress controller's pods: labels we set on them through the chart (controller.selectorLabels, which the
 * chart puts on the pod template; chart 2.5.1 _helpers.tpl nginx-ingress.podLabels, unchanged in 2.6.4). NetworkPolicies of the
 * engines admit exactly these pods, not the whole ingress namespace.
 */
export const INGRESS_CONTROLLER_PODS: PodPeer = {
  namespace: INGRESS_NAMESPACE,
  podLabels: { "app.kubernetes.io/name": "nginx-ingress", "app.kubernetes.io/instance": "nginx-ingress" },
};

/**
 * Prometheus and Alertmanager pods: the Prometheus Operator labels the pods of every Prometheus and Alertmanager
 * it runs with app.kubernetes.io/name = prometheus / alertmanager (pkg/prometheus/server/operator.go and
 * pkg/alertmanager/operator.go applicationNameLabelValue, prometheus-operator v0.93.0, read 2026-12-01).
 */
export const PROMETHEUS_PODS: PodPeer = {
  namespace: MONITORING_NAMESPACE,
  podLabels: { "app.kubernetes.io/name": "prometheus" },
};
export const ALERTMANAGER_PODS: PodPeer = {
  namespace: MONITORING_NAMESPACE,
  podLabels: { "app.kubernetes.io/name": "alertmanager" },
};

/** A NetworkPolicy peer that matches exactly `peer`'s pods (namespace AND pod labels, in one peer entry). */
export function networkPolicyPeer(peer: PodPeer): {
  namespaceSelector: { matchLabels: Record<string, string> };
  podSelector: { matchLabels: Record<string, string> };
} {
  return {
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: peer.namespace } },
    podSelector: { matchLabels: { ...peer.podLabels } },
  };
}
