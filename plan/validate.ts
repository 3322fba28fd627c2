import { LOCAL_SCHEMAS } from "./schemas";

/** A Kubernetes object as rendered: apiVersion, kind, metadata, and the rest. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ValidationFailure {
  readonly object: string;
  readonly error: string;
}

/**
 * Where the schema of each API group comes from: the kubernetes-models packages (generated from the Kubernetes
 * OpenAPI spec and the projects' CRDs), or a schema of ours in plan/schemas/ for CRDs no package covers.
 */
const PACKAGE_FOR_GROUP: Record<string, string> = {
  "": "kubernetes-models",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "keda.sh": "@kubernetes-models/keda",
  "cert-manager.io": "@kubernetes-models/cert-manager",
};

type Validate = (obj: K8sObject) => void;
const cache = new Map<string, Validate | null>();

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf("/");
  return i < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

async function validatorFor(apiVersion: string, kind: string): Promise<Validate | null> {
  const key = `${apiVersion}/${kind}`;
  if (cache.has(key)) return cache.get(key)!;
  let validate: Validate | null = null;
  const local = LOCAL_SCHEMAS[key];
  if (local) {
    validate = (obj) => {
      const r = local.safeParse(obj);
      if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join("/")}: ${i.message}`).join("; "));
    };
  } else {
    const { group, version } = splitApiVersion(apiVersion);
    const isCoreGroup =
      group === "" || group.endsWith(".k8s.io") || ["apps", "batch", "policy", "autoscaling"].includes(group);
    const pkg = isCoreGroup ? "kubernetes-models" : PACKAGE_FOR_GROUP[group];
    if (pkg) {
      const path =
        pkg === "kubernetes-models"
          ? `${pkg}/${group === "" ? "" : `${group}/`}${version}/${kind}`
          : `${pkg}/${group}/${version}/${kind}`;
      try {
        const mod = (await import(path)) as Record<string, new (o: unknown) => { validate(): void }>;
        const Model = mod[kind];
        if (Model) validate = (obj) => new Model(obj).validate();
      } catch {
        validate = null;
      }
    }
  }
  cache.set(key, validate);
  return validate;
}

export function describeObject(obj: K8sObject): string {
  const ns = obj.metadata?.namespace ? `${obj.metadata.namespace}/` : "";
  return `${obj.kind} ${ns}${obj.metadata?.name ?? "(no name)"} (${obj.apiVersion})`;
}

/** Validates every object against its schema; an object with no known schema is a failure too. */
export async function validateObjects(objects: readonly K8sObject[]): Promise<ValidationFailure[]> {
  const failures: ValidationFailure[] = [];
  for (const obj of objects) {
    if (!obj.apiVersion || !obj.kind) {
      failures.push({ object: JSON.stringify(obj.metadata ?? {}), error: "missing apiVersion or kind" });
      continue;
    }
    const validate = await validatorFor(obj.apiVersion, obj.kind);
    if (!validate) {
      failures.push({
        object: describeObject(obj),
        error: `no schema known for ${obj.apiVersion} ${obj.kind}; add one to plan/schemas/ or a kubernetes-models package to plan/validate.ts`,
      });
      continue;
    }
    try {
      validate(obj);
    } catch (e) {
      failures.push({ object: describeObject(obj), error: (e as Error).message });
    }
  }
  return failures;
}
