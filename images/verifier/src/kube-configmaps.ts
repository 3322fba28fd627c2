/**
 * The three ConfigMap calls the verification Job makes to the Kubernetes API (core/v1, one namespace): GET by
 * name, POST (create) and PUT (replace with the resourceVersion read before). Answers as the API server gives them
 * (kubernetes/apimachinery pkg/api/errors, read 2026-12-07): a missing object is 404 with a Status of reason
 * NotFound; creating an existing name is 409 AlreadyExists; a PUT whose metadata.resourceVersion is no longer
 * current is 409 Conflict. The pod's service account token authenticates (a Role allows get/update on the named
 * ConfigMaps and create: components/verification). Node's http/https only: three calls need no client library.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { KubeApi } from "../../common/kube-api";

export interface ConfigMapObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  data?: Record<string, string> | null;
  binaryData?: Record<string, string> | null;
}

/** A 409 from the API server: AlreadyExists (create) or Conflict (a stale resourceVersion on replace). */
export class KubeConflict extends Error {
  override readonly name = "KubeConflict";
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

function call(api: KubeApi, method: string, pathname: string, body?: unknown): Promise<Answer> {
  const u = new URL(pathname, api.url);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const token = api.token();
  const options: https.RequestOptions = {
    method,
    headers: {
      accept: "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}),
    },
    timeout: api.timeoutMs ?? 15_000,
    ...(api.ca ? { ca: api.ca } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (u.protocol === "https:" ? https : http).request(u, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${api.timeoutMs ?? 15_000} ms`)));
    req.on("error", (e) => reject(new Error(`Kubernetes API ${method} ${u.pathname}: ${e.message}`)));
    req.end(payload);
  });
}

/** The Status message of an error answer, cut to a readable length. */
function statusOf(a: Answer): { reason: string; message: string } {
  try {
    const s = JSON.parse(a.body) as { reason?: string; message?: string };
    return { reason: s.reason ?? "", message: (s.message ?? a.body).slice(0, 300) };
  } catch {
    return { reason: "", message: a.body.slice(0, 300) };
  }
}

function failure(method: string, what: string, a: Answer): Error {
  const { reason, message } = statusOf(a);
  const hint =
    a.status === 401 || a.status === 403
      ? " (the verification Job's service account lacks the Role on this ConfigMap: re-run `pulumi up`, which creates it)"
      : "";
  return new Error(`Kubernetes API ${method} ${what}: ${a.status} ${reason} ${message}${hint}`.replace(/\s+/g, " "));
}

const base = (ns: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps`;

/** The ConfigMap, or undefined on 404 (nothing recorded yet: the first deploy). */
export async function getConfigMap(api: KubeApi, ns: string, name: string): Promise<ConfigMapObject | undefined> {
  const a = await call(api, "GET", `${base(ns)}/${encodeURIComponent(name)}`);
  if (a.status === 404) return undefined;
  if (a.status !== 200) throw failure("GET", `configmap ${ns}/${name}`, a);
  return JSON.parse(a.body) as ConfigMapObject;
}

export async function createConfigMap(api: KubeApi, ns: string, cm: ConfigMapObject): Promise<ConfigMapObject> {
  const a = await call(api, "POST", base(ns), { apiVersion: "v1", kind: "ConfigMap", ...cm });
  if (a.status === 409) {
    const { reason, message } = statusOf(a);
    throw new KubeConflict(message, reason || "AlreadyExists");
  }
  if (a.status !== 201 && a.status !== 200) throw failure("POST", `configmap ${ns}/${cm.metadata.name}`, a);
  return JSON.parse(a.body) as ConfigMapObject;
}

/** PUT with cm.metadata.resourceVersion: a 409 Conflict when someone wrote it since it was read. */
export async function replaceConfigMap(api: KubeApi, ns: string, cm: ConfigMapObject): Promise<ConfigMapObject> {
  const a = await call(api, "PUT", `${base(ns)}/${encodeURIComponent(cm.metadata.name)}`, {
    apiVersion: "v1",
    kind: "ConfigMap",
    ...cm,
  });
  if (a.status === 409) {
    const { reason, message } = statusOf(a);
    throw new KubeConflict(message, reason || "Conflict");
  }
  if (a.status !== 200) throw failure("PUT", `configmap ${ns}/${cm.metadata.name}`, a);
  return JSON.parse(a.body) as ConfigMapObject;
}
