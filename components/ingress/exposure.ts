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
  /** Labels of the controller's namespace the load balancer needs (the readiness-gate injection for IP targets). */
  readonly namespaceLabels: Readonly<Record<string, string>>;
}

/**
 * With IP targets the NLB sends straight to the controller's pods, so a rollout must not take a pod away before its
 * replacement is a healthy target. The AWS Load Balancer Controller's webhook adds a readiness gate (the target's
 * health in the target group) to every pod created in a namespace with this label; the pod is Ready only once the
 * NLB sees it healthy, and a rolling update with maxUnavailable 0 waits for that (kubernetes-sigs/
 * aws-load-balancer-controller docs/deploy/pod_readiness_gate.md at tag v3.5.0, 11eb202, read 2026-12-07;
 * the controller's flag enable-pod-readiness-gate-inject defaults to true, docs/deploy/configurations.md).
 */
const POD_READINESS_GATE_LABEL = { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" } as const;

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
    return {
      type: "NodePort",
      annotations: {},
      loadBalancerSourceRanges: [],
      externalTrafficPolicy: "Cluster",
      namespaceLabels: {},
    };
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
    namespaceLabels: { ...POD_READINESS_GATE_LABEL },
  };
}
