/**
 * NetworkPolicy specs of the platform's own workloads (the engines' policies are in components/serving). EKS
 * enforces them through the VPC CNI's network policy agent (components/cluster/eks.ts enables it); that agent
 * always admits traffic from the pod's own node, so kubelet probes need no rule (aws/aws-network-policy-agent
 * PR #65). Pure builders: the components create the objects, the tests read them.
 */
import type * as k8s from "@pulumi/kubernetes";
import {
  ALERTMANAGER_PODS,
  NAMESPACE_NAME_LABEL,
  PROMETHEUS_PODS,
  networkPolicyPeer,
  type PodPeer,
} from "./namespaces";

type Spec = k8s.types.input.networking.v1.NetworkPolicySpec;
type Rule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;
type IngressRule = k8s.types.input.networking.v1.NetworkPolicyIngressRule;
const tcp = (port: number) => ({ protocol: "TCP", port });

/** Cluster DNS: CoreDNS pods in kube-system, label k8s-app=kube-dns as EKS, kubeadm and kind deploy them. */
export const CLUSTER_DNS = { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } } as const;
/** DNS answers on port 53 over UDP, and over TCP for large answers. */
export const DNS_PORTS = [
  { protocol: "UDP", port: 53 },
  { protocol: "TCP", port: 53 },
] as const;

/** The egress rule every policy of ours that restricts egress starts with: cluster DNS. */
export const DNS_EGRESS: Rule = {
  to: [
    {
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: CLUSTER_DNS.namespace } },
      podSelector: { matchLabels: { ...CLUSTER_DNS.podLabels } },
    },
  ],
  ports: DNS_PORTS.map((p) => ({ ...p })),
};

/** HTTPS to any address: chat and webhook receivers live outside the cluster, at addresses we cannot list. */
const HTTPS_EGRESS: Rule = { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [tcp(443)] };

/**
 * A policy that decides who may reach the selected pods and leaves their egress open: exactly the `ingress` rules
 * are admitted (none: nothing reaches the pods but their own node's kubelet).
 */
export function ingressOnlySpec(podLabels: Readonly<Record<string, string>>, ingress: IngressRule[]): Spec {
  return { podSelector: { matchLabels: { ...podLabels } }, policyTypes: ["Ingress"], ingress };
}

/**
 * The ingress controller: its HTTP(S) ports from anywhere (the NLB keeps client addresses, so the sources are the
 * clients), its metrics port from Prometheus only; nothing else reaches it (the NGINX status and API ports stay
 * closed). Egress stays open: the controller must reach the Kubernetes API (control-plane addresses in the VPC
 * that a policy cannot name portably), every engine and cert-manager's solver.
 */
export function ingressControllerPolicySpec(
  pods: PodPeer,
  ports: { readonly http: number; readonly https: number; readonly metrics: number },
): Spec {
  return ingressOnlySpec(pods.podLabels, [
    { ports: [tcp(ports.http), tcp(ports.https)] },
    { from: [networkPolicyPeer(PROMETHEUS_PODS)], ports: [tcp(ports.metrics)] },
  ]);
}

/**
 * The chat bridge: only Alertmanager may post to it; it may only resolve names and call HTTPS endpoints (the
 * WeCom/DingTalk webhooks). No path to the engines, the Kubernetes API's pod-network peers or IMDS (port 80).
 */
export function chatBridgePolicySpec(podLabels: Readonly<Record<string, string>>, port: number): Spec {
  return {
    podSelector: { matchLabels: { ...podLabels } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from: [networkPolicyPeer(ALERTMANAGER_PODS)], ports: [tcp(port)] }],
    egress: [DNS_EGRESS, HTTPS_EGRESS],
  };
}

/** Alertmanager's ports (prometheus-operator pkg/alertmanager/statefulset.go: web 9093, mesh 9094 TCP+UDP; config-reloader 8080). */
const ALERTMANAGER_PORTS = { web: 9093, mesh: 9094, reloader: 8080 } as const;

/**
 * Alertmanager: Prometheus sends alerts and scrapes it, Grafana reads it, replicas gossip on the mesh port.
 * Egress: DNS, the chat bridge, its peers and HTTPS receivers on 443 (receiver URLs are required to be https on 443:
 * config/secrets.ts receiverUrlProblem).
 */
export function alertmanagerPolicySpec(bridge: {
  readonly podLabels: Readonly<Record<string, string>>;
  readonly port: number;
}): Spec {
  const self = { podSelector: { matchLabels: { ...ALERTMANAGER_PODS.podLabels } } };
  const mesh = [
    { protocol: "TCP", port: ALERTMANAGER_PORTS.mesh },
    { protocol: "UDP", port: ALERTMANAGER_PORTS.mesh },
  ];
  return {
    podSelector: { matchLabels: { ...ALERTMANAGER_PODS.podLabels } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [
      {
        from: [networkPolicyPeer(PROMETHEUS_PODS)],
        ports: [tcp(ALERTMANAGER_PORTS.web), tcp(ALERTMANAGER_PORTS.reloader)],
      },
      {
        from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana" } } }],
        ports: [tcp(ALERTMANAGER_PORTS.web)],
      },
      { from: [self], ports: mesh },
    ],
    egress: [
      DNS_EGRESS,
      { to: [{ podSelector: { matchLabels: { ...bridge.podLabels } } }], ports: [tcp(bridge.port)] },
      { to: [self], ports: mesh },
      HTTPS_EGRESS,
    ],
  };
}
