import { asArray, asObject, asString, containersOf, describe, get, kindOf, labelsOf, podTemplatesOf } from "./k8s";
import type { PolicyResource, ResourceRule } from "./types";

/**
 * The one Service allowed to face outside the cluster: the ingress controller's. Its Service normally comes from
 * the ingress-nginx Helm release (not an object we render); a Service we render for it must carry these labels.
 */
export function isIngressControllerService(r: PolicyResource): boolean {
  const labels = labelsOf(r);
  return (
    INGRESS_CONTROLLER_NAMES.has(labels["app.kubernetes.io/name"] ?? "") &&
    (labels["app.kubernetes.io/component"] ?? "controller") === "controller"
  );
}

/** `app.kubernetes.io/name` of the ingress controllers we deploy: F5 NGINX (chart nginx-ingress) or the community ingress-nginx. */
export const INGRESS_CONTROLLER_NAMES: ReadonlySet<string> = new Set(["nginx-ingress", "ingress-nginx"]);

const EXTERNAL_SERVICE_TYPES = new Set(["LoadBalancer", "NodePort"]);

export const enginesStayInsideCluster: ResourceRule = {
  scope: "resource",
  name: "engines-cluster-internal",
  description:
    "Nothing but the ingress controller is reachable from outside the cluster: no LoadBalancer/NodePort Services, externalIPs, hostNetwork or hostPort.",
  enforcementLevel: "mandatory",
  rationale:
    "Engines have no authentication, rate limits or TLS of their own; the ingress and gateway add them. An engine exposed directly bypasses API keys and lets anyone run GPU work on our bill.",
  remediation:
    "Use a ClusterIP Service and route through the ingress (components/ingress); remove hostNetwork/hostPort.",
  validate(resource) {
    const out: string[] = [];
    if (kindOf(resource) === "Service" && !isIngressControllerService(resource)) {
      const type = asString(get(resource.props, "spec", "type"));
      if (type && EXTERNAL_SERVICE_TYPES.has(type))
        out.push(
          `${describe(resource)} is of type ${type}; only the ingress controller may be exposed outside the cluster. Use ClusterIP.`,
        );
      if (asArray(get(resource.props, "spec", "externalIPs")).length)
        out.push(
          `${describe(resource)} sets externalIPs; only the ingress controller may be exposed outside the cluster.`,
        );
    }
    for (const t of podTemplatesOf(resource)) {
      if (t.spec.hostNetwork === true)
        out.push(`${describe(resource)} sets ${t.path}.hostNetwork: true, which puts its ports on the node's address.`);
      for (const c of containersOf(t)) {
        for (const port of asArray(c.container.ports)) {
          const hostPort = asObject(port)?.hostPort;
          if (hostPort !== undefined)
            out.push(
              `${describe(resource)} container "${c.name}" binds hostPort ${String(hostPort)}, reachable on the node's address.`,
            );
        }
      }
    }
    return out;
  },
};
