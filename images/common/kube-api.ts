import * as fs from "node:fs";

/**
 * How a program in a pod reaches the Kubernetes API with its service account: the gateway (EndpointSlice
 * discovery) and the verification Job (its fingerprint record's ConfigMaps).
 */
export interface KubeApi {
  /** e.g. https://10.100.0.1:443 (in a pod: from KUBERNETES_SERVICE_HOST/PORT); http://127.0.0.1:port in tests. */
  readonly url: string;
  /** The bearer token, read on every call and (re)connect: projected service account tokens rotate. */
  readonly token: () => string | undefined;
  /** The API server's CA (PEM); absent for plain http (tests). */
  readonly ca?: string;
  /** Budget of one call where the caller has one. */
  readonly timeoutMs?: number;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The in-cluster API, when this process runs in a pod with a service account token; else undefined. */
export function inClusterKubeApi(env: NodeJS.ProcessEnv = process.env, saDir = SA_DIR): KubeApi | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (!host || !fs.existsSync(`${saDir}/token`)) return undefined;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  return {
    url: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    token: () => {
      try {
        return fs.readFileSync(`${saDir}/token`, "utf8").trim();
      } catch {
        return undefined;
      }
    },
    ca: fs.readFileSync(`${saDir}/ca.crt`, "utf8"),
  };
}
