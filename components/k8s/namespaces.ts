/**
 * Namespaces the components agree on. The NetworkPolicies of the model Services admit traffic only from the
 * ingress and monitoring namespaces named here, so the ingress and observability components must install
 * into exactly these (import the constants, never retype the strings).
 */
/** Model engines (ModelService objects). */
export const MODELS_NAMESPACE = "retrieval";
/** ingress-nginx and the model-routing gateway: the only clients of the engines besides Prometheus. */
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
