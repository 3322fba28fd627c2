/**
 * TLS for the entry point, controller-independent: cert-manager (Helm, pinned) with an ACME or a private-CA
 * ClusterIssuer and a Certificate for the host, or a Secret the user manages. The controller only needs the
 * name of the kubernetes.io/tls Secret to serve.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { IngressConfig } from "../config/ingress";
import { childOptions, formerlyNamed, standardLabels } from "../k8s/meta";
import { certManagerRelease, usesCertManager } from "../k8s/cert-manager";

/** Secret the Certificate writes (ACME / private CA) in the VirtualServer's namespace. */
const MANAGED_TLS_SECRET = "retrieval-api-tls";
const CLUSTER_ISSUER_NAME = "retrieval-stack";

type Tls = IngressConfig["tls"];

/** Name of the TLS Secret the controller serves, or undefined for plain HTTP. */
function tlsSecretName(tls: Tls): string | undefined {
  switch (tls.mode) {
    case "none":
      return undefined;
    case "secret":
      return tls.secretName;
    default:
      return MANAGED_TLS_SECRET;
  }
}

/** ClusterIssuer spec; HTTP-01 answers through the controller's ingress class. */
function clusterIssuerSpec(tls: Tls, ingressClass: string): Record<string, unknown> | undefined {
  if (tls.mode === "acme") {
    return {
      acme: {
        email: tls.email,
        server: tls.server,
        privateKeySecretRef: { name: `${CLUSTER_ISSUER_NAME}-acme-account` },
        solvers: [{ http01: { ingress: { ingressClassName: ingressClass } } }],
      },
    };
  }
  if (tls.mode === "privateCa") return { ca: { secretName: tls.caSecretName } };
  return undefined;
}

function certificateSpec(host: string): Record<string, unknown> {
  return {
    secretName: MANAGED_TLS_SECRET,
    dnsNames: [host],
    issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: CLUSTER_ISSUER_NAME },
    privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
    duration: "2160h",
    renewBefore: "720h",
  };
}

interface TlsResources {
  /** Secret the controller serves (undefined: plain HTTP). */
  readonly secretName: string | undefined;
  /** What routes must wait for (the Certificate, so the first request finds a certificate). */
  readonly ready: pulumi.Resource[];
}

interface Common {
  /** The Ingress component's name: the resource names derive from it. */
  readonly name: string;
  readonly parent: pulumi.Resource;
  readonly provider: k8s.Provider;
  readonly tls: Tls;
}

/**
 * cert-manager itself, when the TLS mode needs it. Installed before the controller: NGINX Ingress Controller's
 * cert-manager integration watches cert-manager's CRDs from the start.
 */
export function installCertManager(args: Common & { readonly monitoring: boolean }): pulumi.Resource[] {
  return usesCertManager(args.tls) ? [certManagerRelease(args)] : [];
}

interface IssueArgs extends Common {
  readonly host: string;
  /** Namespace of the VirtualServer, where the TLS Secret must live. */
  readonly namespace: pulumi.Input<string>;
  readonly ingressClass: string;
  /** cert-manager and the controller (ACME HTTP-01 is answered through it). */
  readonly dependsOn: pulumi.Resource[];
}

/** The ClusterIssuer and the Certificate for the host (ACME / private CA), or just the name of the user's Secret. */
export function issueCertificate(args: IssueArgs): TlsResources {
  const { parent, provider, tls } = args;
  const secretName = tlsSecretName(tls);
  if (!usesCertManager(tls)) return { secretName, ready: [] };
  const issuerName = `${args.name}-cluster-issuer`;
  const certificateName = `${args.name}-certificate`;
  const issuer = new k8s.apiextensions.CustomResource(
    issuerName,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: CLUSTER_ISSUER_NAME, labels: standardLabels(CLUSTER_ISSUER_NAME, "tls") },
      spec: clusterIssuerSpec(tls, args.ingressClass),
    },
    childOptions(parent, provider, { dependsOn: args.dependsOn, ...formerlyNamed(issuerName, "cluster-issuer") }),
  );
  const certificate = new k8s.apiextensions.CustomResource(
    certificateName,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: {
        name: "retrieval-api",
        namespace: args.namespace,
        labels: standardLabels("retrieval-api", "tls"),
        // A self-signed stand-in until ACME answers, so NGINX can serve HTTPS (and the HTTP-01 redirect target) at once.
        annotations: { "cert-manager.io/issue-temporary-certificate": "true" },
      },
      spec: certificateSpec(args.host),
    },
    childOptions(parent, provider, {
      dependsOn: [issuer, ...args.dependsOn],
      ...formerlyNamed(certificateName, "certificate"),
    }),
  );
  return { secretName, ready: [certificate] };
}
