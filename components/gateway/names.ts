/**
 * Kubernetes names of a Gateway's objects, all derived from the component's name so that two Gateways in one stack
 * (or one namespace) never collide. The stack's own Gateway is called "gateway", which gives the names clients
 * and dashboards already know: retrieval-gateway, retrieval-gateway-redis, ...
 */
export interface GatewayNames {
  /** Deployment, Service, ConfigMap, NetworkPolicy, PDB, ServiceMonitor, ScaledObject/HPA. */
  readonly base: string;
  /** Secret with the key hashes (re-read by the pods when it changes). */
  readonly keys: string;
  /** The in-cluster counter store: Deployment, Service, PVC, PDB, NetworkPolicy. */
  readonly store: string;
  /** Secret with the counter store's password (and its redis-server include file). */
  readonly storeAuth: string;
  /** ServiceAccount and read-only Role/RoleBinding for EndpointSlice discovery in the models' namespace. */
  readonly discovery: string;
}

export function gatewayNames(componentName: string): GatewayNames {
  const base = `retrieval-${componentName}`;
  return {
    base,
    keys: `${base}-keys`,
    store: `${base}-redis`,
    storeAuth: `${base}-redis-auth`,
    discovery: `${base}-discovery`,
  };
}
