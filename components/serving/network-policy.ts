import type * as k8s from "@pulumi/kubernetes";
import { ENGINE_CLIENT_LABEL, INGRESS_NAMESPACE, MONITORING_NAMESPACE, NAMESPACE_NAME_LABEL } from "../k8s/namespaces";
import { CLUSTER_DNS, DNS_PORTS } from "../k8s/network-policies";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type PolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/**
 * Pods allowed to reach a model. Both fields select (a NetworkPolicy peer with namespaceSelector AND podSelector):
 * `namespaceLabels` absent means the model's own namespace, `podLabels` absent means every pod there.
 */
export interface PeerSelector {
  /** Labels of the peers' namespaces, e.g. { "kubernetes.io/metadata.name": "ingress-nginx" }. */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  /** Labels of the peer pods, e.g. { "app.kubernetes.io/name": "ingress-nginx" }. */
  readonly podLabels?: Readonly<Record<string, string>>;
}

/** Who may call a model, by role. Each role replaces its default when given; `[]` admits nobody in that role. */
export interface ModelPeers {
  /** Callers of the engine's HTTP port from the edge: the ingress controller's pods. Default: DEFAULT_PEERS.ingress. */
  readonly ingress?: readonly PeerSelector[];
  /** Callers of the HTTP port behind the edge, e.g. a model-routing gateway's pods. Default: none. */
  readonly gateway?: readonly PeerSelector[];
  /** Scrapers of the metrics port: Prometheus pods. Default: DEFAULT_PEERS.prometheus. */
  readonly prometheus?: readonly PeerSelector[];
  /**
   * Direct callers in the model's namespace, e.g. the post-deploy verifier. Default: pods there labelled
   * ENGINE_CLIENT_LABEL=true (the Verification component labels its Job's pods so).
   */
  readonly clients?: readonly PeerSelector[];
}

/**
 * Defaults for the stack's own components. The ingress pods are those of the F5 NGINX chart as our Ingress component
 * installs it (CONTROLLER_SELECTOR in components/ingress/nginx-ingress/chart.ts; a test keeps them equal). Prometheus
 * pods carry `app.kubernetes.io/name: prometheus` (set by the Prometheus Operator on every Prometheus it runs).
 */
export const DEFAULT_PEERS: Required<ModelPeers> = {
  ingress: [
    {
      namespaceLabels: { [NAMESPACE_NAME_LABEL]: INGRESS_NAMESPACE },
      podLabels: { "app.kubernetes.io/name": "nginx-ingress", "app.kubernetes.io/instance": "nginx-ingress" },
    },
  ],
  gateway: [],
  prometheus: [
    {
      namespaceLabels: { [NAMESPACE_NAME_LABEL]: MONITORING_NAMESPACE },
      podLabels: { "app.kubernetes.io/name": "prometheus" },
    },
  ],
  clients: [{ podLabels: { [ENGINE_CLIENT_LABEL]: "true" } }],
};

/** One allowed egress destination: a CIDR (with exceptions) and the TCP ports on it. */
export interface EgressTarget {
  readonly cidr: string;
  readonly except?: readonly string[];
  readonly ports: readonly number[];
}

/**
 * Ranges that are not the public internet: RFC 1918, carrier-grade NAT (RFC 6598), link-local (169.254/16, where
 * the instance metadata service lives) and loopback. The hub rule excludes them, so an engine cannot reach the
 * cluster's other pods, nodes, the VPC or IMDS over 443.
 */
export const NON_PUBLIC_CIDRS = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "169.254.0.0/16",
  "127.0.0.0/8",
] as const;

/**
 * The model hub (huggingface.co and its CDN; ModelScope for Xinference) has no fixed addresses and Kubernetes
 * NetworkPolicies have no host names: the default therefore allows HTTPS (443) to every public IPv4 address, i.e.
 * 0.0.0.0/0 minus NON_PUBLIC_CIDRS. A cluster that pulls weights from a mirror passes the mirror's CIDR and port
 * instead (`egress.hub`), which closes the internet entirely.
 */
export const DEFAULT_HUB_EGRESS: readonly EgressTarget[] = [
  { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_CIDRS], ports: [443] },
];

/** Cluster DNS (components/k8s/network-policies.ts CLUSTER_DNS). */
export const DEFAULT_DNS_PEERS: readonly PeerSelector[] = [
  { namespaceLabels: { [NAMESPACE_NAME_LABEL]: CLUSTER_DNS.namespace }, podLabels: { ...CLUSTER_DNS.podLabels } },
];

/** What an engine pod may reach. `false` leaves egress unrestricted (no Egress policy type). */
export type ModelEgress =
  | false
  | {
      /** Where weights come from. Default: DEFAULT_HUB_EGRESS (public HTTPS). */
      readonly hub?: readonly EgressTarget[];
      /** The cluster's DNS servers. Default: DEFAULT_DNS_PEERS. */
      readonly dns?: readonly PeerSelector[];
      /** Further destinations (e.g. an OTLP collector), added to hub and DNS. */
      readonly extra?: readonly EgressTarget[];
    };

interface NetworkPolicyInputs {
  /** Pod labels of the model (the Deployment's selector). */
  readonly podSelector: Readonly<Record<string, string>>;
  readonly httpPort: number;
  readonly metricsPort: number;
  readonly peers?: ModelPeers;
  readonly egress?: ModelEgress;
}

function peer(p: PeerSelector): PolicyPeer {
  return {
    ...(p.namespaceLabels ? { namespaceSelector: { matchLabels: { ...p.namespaceLabels } } } : {}),
    // An empty podSelector inside a namespaceSelector peer means "every pod there"; alone it means our namespace.
    podSelector: { matchLabels: { ...(p.podLabels ?? {}) } },
  };
}

const ipBlock = (t: EgressTarget) => ({
  to: [{ ipBlock: { cidr: t.cidr, ...(t.except?.length ? { except: [...t.except] } : {}) } }],
  ports: t.ports.map((port) => ({ protocol: "TCP", port })),
});

/**
 * The model's NetworkPolicy: ingress from the peers by role (HTTP port: ingress, gateway, clients; metrics port:
 * Prometheus), and unless `egress` is false, egress only to DNS and the model hub. Pure.
 */
export function planNetworkPolicy(i: NetworkPolicyInputs): NetworkPolicySpec {
  const peers = { ...DEFAULT_PEERS, ...i.peers };
  const callers = [...peers.ingress, ...peers.gateway, ...peers.clients].map(peer);
  const scrapers = peers.prometheus.map(peer);
  const ingress = [
    ...(callers.length ? [{ from: callers, ports: [{ protocol: "TCP", port: i.httpPort }] }] : []),
    ...(scrapers.length ? [{ from: scrapers, ports: [{ protocol: "TCP", port: i.metricsPort }] }] : []),
  ];
  const spec: NetworkPolicySpec = { podSelector: { matchLabels: { ...i.podSelector } }, ingress };
  if (i.egress === false) return { ...spec, policyTypes: ["Ingress"] };
  const e = i.egress ?? {};
  const dns = (e.dns ?? DEFAULT_DNS_PEERS).map(peer);
  const egress = [
    {
      to: dns,
      ports: DNS_PORTS.map((p) => ({ ...p })),
    },
    ...(e.hub ?? DEFAULT_HUB_EGRESS).map(ipBlock),
    ...(e.extra ?? []).map(ipBlock),
  ];
  return { ...spec, policyTypes: ["Ingress", "Egress"], egress };
}
