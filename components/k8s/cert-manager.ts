/**
 * cert-manager (Helm, pinned): installed by whichever component needs it first, the ingress for its TLS or an
 * engine's prerequisites for their webhooks, never twice. Platform plumbing, so it lives beside the other
 * shared Kubernetes helpers rather than in ingress/ (serving/ may not import ingress/).
 */
import type * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { IngressConfig } from "../config/ingress";
import { childOptions, formerlyNamed, standardLabels } from "./meta";
import { pinnedRelease } from "./helm";
import { NAMESPACE_POD_SECURITY, podSecurityLabels } from "./namespaces";
import { CHARTS } from "../versions";

/** cert-manager, pinned (components/versions.ts). */
const CERT_MANAGER_CHART = CHARTS.certManager;
const CERT_MANAGER_NAMESPACE = "cert-manager";

/** Whether the ingress's TLS mode is served by cert-manager (ACME or a private CA). */
export function usesCertManager(tls: IngressConfig["tls"]): boolean {
  return tls.mode === "acme" || tls.mode === "privateCa";
}

/** Whether the Ingress component installs cert-manager for this config: then nothing else may install it again. */
export function ingressInstallsCertManager(ingress: IngressConfig): boolean {
  return ingress.enabled && usesCertManager(ingress.tls);
}

/** cert-manager's namespace and pinned Helm release, whatever needs it (the ingress TLS, an engine's webhooks). */
export function certManagerRelease(args: {
  /** The installing component's name: the resource names derive from it (`<name>-cert-manager`, ...). */
  readonly name: string;
  readonly parent: pulumi.Resource;
  readonly provider: k8s.Provider;
  readonly monitoring: boolean;
}): k8s.helm.v3.Release {
  const { parent, provider } = args;
  // Both were named "cert-manager" before their names derived from the component's: that name is their alias.
  const nsName = `${args.name}-cert-manager-namespace`;
  const releaseName = `${args.name}-cert-manager`;
  const ns = new k8s.core.v1.Namespace(
    nsName,
    {
      metadata: {
        name: CERT_MANAGER_NAMESPACE,
        labels: standardLabels(
          "cert-manager",
          "tls",
          podSecurityLabels(NAMESPACE_POD_SECURITY[CERT_MANAGER_NAMESPACE]!.level),
        ),
      },
    },
    childOptions(parent, provider, formerlyNamed(nsName, "cert-manager")),
  );
  const release = pinnedRelease(
    releaseName,
    {
      name: "cert-manager",
      namespace: CERT_MANAGER_NAMESPACE,
      chart: CERT_MANAGER_CHART,
      values: {
        // CRDs with the release, kept on uninstall so that certificates survive a `helm uninstall`.
        crds: { enabled: true, keep: true },
        replicaCount: 1,
        prometheus: { enabled: args.monitoring, servicemonitor: { enabled: args.monitoring } },
      },
    },
    childOptions(parent, provider, { dependsOn: [ns], ...formerlyNamed(releaseName, "cert-manager") }),
  );
  return release;
}
