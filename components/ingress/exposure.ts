/**
 * How the controller's Service is reached: an AWS NLB in cloud stacks, a NodePort (plus `kubectl port-forward`)
 * in local. Controller-independent: whichever controller runs, its Service gets these settings.
 */
import type { Environment } from "../config/common";
import type { IngressConfig } from "../config/ingress";
import { profileOf } from "../config/environments";

export interface ServiceExposure {
  readonly type: "LoadBalancer" | "NodePort";
  readonly annotations: Record<string, string>;
  /** Source CIDRs allowed to reach the load balancer (the NLB's security group); empty = no restriction. */
  readonly loadBalancerSourceRanges: readonly string[];
  /** Local keeps the client address (NLB IP targets); Cluster lets any node's NodePort answer (local clusters). */
  readonly externalTrafficPolicy: "Local" | "Cluster";
}

/**
 * AWS Load Balancer Controller annotations (kubernetes-sigs.github.io/aws-load-balancer-controller, service
 * annotations, read 2026-11): `external` + `ip` targets send traffic straight to the controller pods; the scheme
 * is internal unless asked otherwise; client IP preservation keeps per-IP limits and access logs meaningful.
 * Requires the AWS Load Balancer Controller in the cluster (the in-tree controller ignores these).
 */
export function serviceExposure(
  environment: Environment,
  ingress: Pick<IngressConfig, "exposure" | "allowedSourceCidrs">,
): ServiceExposure {
  if (!profileOf(environment).cloud)
    return { type: "NodePort", annotations: {}, loadBalancerSourceRanges: [], externalTrafficPolicy: "Cluster" };
  return {
    type: "LoadBalancer",
    annotations: {
      "service.beta.kubernetes.io/aws-load-balancer-type": "external",
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": ingress.exposure,
      "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true",
      "service.beta.kubernetes.io/aws-load-balancer-attributes": "load_balancing.cross_zone.enabled=true",
    },
    loadBalancerSourceRanges: [...ingress.allowedSourceCidrs],
    externalTrafficPolicy: "Local",
  };
}
