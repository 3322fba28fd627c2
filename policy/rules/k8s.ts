import { GPU_RESOURCE } from "../../components/k8s/meta";
import type { PolicyResource } from "./types";

// Read-only views of Kubernetes objects as plain JSON. Policies receive whatever the program wrote (partly unknown
// during a preview), so every accessor tolerates missing or oddly typed fields instead of throwing.

export type Json = Record<string, unknown>;

export const asObject = (v: unknown): Json | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const asString = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export function get(v: unknown, ...path: string[]): unknown {
  let cur: unknown = v;
  for (const p of path) cur = asObject(cur)?.[p];
  return cur;
}

export function stringMap(v: unknown): Record<string, string> {
  const o = asObject(v) ?? {};
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === "string"));
}

const HELM_TYPES = new Set([
  "kubernetes:helm.sh/v3:Release",
  "kubernetes:helm.sh/v3:Chart",
  "kubernetes:helm.sh/v4:Chart",
]);
export const isHelmRelease = (r: PolicyResource): boolean => HELM_TYPES.has(r.type);

/** A Kubernetes object we render (not a Helm release, not a provider). */
export function isK8sObject(r: PolicyResource): boolean {
  return r.type.startsWith("kubernetes:") && !isHelmRelease(r) && !r.type.startsWith("pulumi:providers:");
}

/** The object's kind: from its inputs, or from the type token ("kubernetes:apps/v1:Deployment" -> "Deployment"). */
export function kindOf(r: PolicyResource): string | undefined {
  if (!isK8sObject(r)) return undefined;
  return asString(r.props.kind) ?? r.type.split(":")[2];
}

export const nameOf = (r: PolicyResource): string => asString(get(r.props, "metadata", "name")) ?? r.name;
export const namespaceOf = (r: PolicyResource): string | undefined => asString(get(r.props, "metadata", "namespace"));
export const labelsOf = (r: PolicyResource): Record<string, string> => stringMap(get(r.props, "metadata", "labels"));

/** `<Kind> <namespace>/<name>` for messages. */
export function describe(r: PolicyResource): string {
  const kind = kindOf(r);
  if (!kind) return `${r.type} "${r.name}"`;
  const ns = namespaceOf(r);
  return `${kind} ${ns ? `${ns}/` : ""}${nameOf(r)}`;
}

/** One pod template inside an object, with where it sits (for messages) and the labels its pods carry. */
export interface PodTemplate {
  readonly path: string;
  readonly spec: Json;
  readonly podLabels: Record<string, string>;
  /** Runs until stopped (Deployment...), as opposed to a Job that runs to completion. */
  readonly longRunning: boolean;
}

const LONG_RUNNING = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"]);

/**
 * Pod specs of a workload object. KServe InferenceService components (predictor, transformer, explainer) are pod
 * specs themselves; their pods carry the object's labels plus `serving.kserve.io/inferenceservice: <name>`.
 * ServingRuntimes are templates for predictor containers, so their containers are checked as well.
 */
export function podTemplatesOf(r: PolicyResource): PodTemplate[] {
  const kind = kindOf(r);
  const p = r.props;
  const tpl = (path: string, template: unknown, longRunning: boolean): PodTemplate[] => {
    const spec = asObject(get(template, "spec"));
    return spec
      ? [{ path: `${path}.spec`, spec, podLabels: stringMap(get(template, "metadata", "labels")), longRunning }]
      : [];
  };
  switch (kind) {
    case "Pod":
      return asObject(p.spec)
        ? [{ path: "spec", spec: asObject(p.spec)!, podLabels: labelsOf(r), longRunning: true }]
        : [];
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "ReplicationController":
    case "Job":
      return tpl("spec.template", get(p, "spec", "template"), LONG_RUNNING.has(kind));
    case "CronJob":
      return tpl("spec.jobTemplate.spec.template", get(p, "spec", "jobTemplate", "spec", "template"), false);
    case "InferenceService": {
      const out: PodTemplate[] = [];
      for (const component of ["predictor", "transformer", "explainer"]) {
        const spec = asObject(get(p, "spec", component));
        if (!spec) continue;
        const podLabels = {
          ...labelsOf(r),
          ...stringMap(spec.labels),
          "serving.kserve.io/inferenceservice": nameOf(r),
        };
        out.push({ path: `spec.${component}`, spec, podLabels, longRunning: true });
      }
      return out;
    }
    case "ServingRuntime":
    case "ClusterServingRuntime":
      return asObject(p.spec) ? [{ path: "spec", spec: asObject(p.spec)!, podLabels: {}, longRunning: true }] : [];
    default:
      return [];
  }
}

export type ContainerRole = "container" | "init" | "ephemeral" | "model";

export interface ContainerRef {
  readonly path: string;
  readonly container: Json;
  readonly role: ContainerRole;
  readonly name: string;
}

/** Containers of a pod spec; a KServe component's `model` counts as its main container (its image comes from the runtime). */
export function containersOf(t: PodTemplate): ContainerRef[] {
  const out: ContainerRef[] = [];
  const add = (key: string, role: ContainerRole) =>
    asArray(t.spec[key]).forEach((c, i) => {
      const container = asObject(c);
      if (container)
        out.push({ path: `${t.path}.${key}[${i}]`, container, role, name: asString(container.name) ?? `#${i}` });
    });
  add("containers", "container");
  add("initContainers", "init");
  add("ephemeralContainers", "ephemeral");
  const model = asObject(t.spec.model);
  if (model)
    out.push({ path: `${t.path}.model`, container: model, role: "model", name: asString(model.name) ?? "model" });
  return out;
}

/** The containers that serve: regular containers and a KServe model (not init or debug containers). */
export const mainContainers = (t: PodTemplate): ContainerRef[] =>
  containersOf(t).filter((c) => c.role === "container" || c.role === "model");

/** The `nvidia.com/gpu` quantity a container asks for in limits or requests (undefined: none). */
export function gpuQuantity(c: Json, where: "limits" | "requests"): unknown {
  return asObject(get(c, "resources", where))?.[GPU_RESOURCE];
}

export const requestsGpu = (t: PodTemplate): boolean =>
  containersOf(t).some(
    (c) => gpuQuantity(c.container, "limits") !== undefined || gpuQuantity(c.container, "requests") !== undefined,
  );

/**
 * Label values that mark a model server. Pods that ask for a GPU and KServe InferenceServices are model workloads
 * whatever their labels; CPU model servers (the local stack's TEI) are recognised by one of these labels.
 */
export const MODEL_COMPONENT_VALUES: ReadonlySet<string> = new Set([
  "model",
  "model-server",
  "model-service",
  "engine",
  "serving",
  "inference",
  "predictor",
]);
/** Alternatively, any object labelled with the served model's name under this key is a model workload. */
export const MODEL_NAME_LABEL = "retrieval-stack.io/model";

export function isModelWorkload(r: PolicyResource, t: PodTemplate): boolean {
  if (!t.longRunning || kindOf(r) === "ServingRuntime" || kindOf(r) === "ClusterServingRuntime") return false;
  if (kindOf(r) === "InferenceService" || requestsGpu(t)) return true;
  const labels = { ...labelsOf(r), ...t.podLabels };
  return MODEL_NAME_LABEL in labels || MODEL_COMPONENT_VALUES.has(labels["app.kubernetes.io/component"] ?? "");
}

/** Every string in a JSON value with its dotted path, for pattern scans. */
export function* stringsIn(v: unknown, path = ""): Generator<[string, string]> {
  if (typeof v === "string") yield [path, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* stringsIn(v[i], `${path}[${i}]`);
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) yield* stringsIn(x, path ? `${path}.${k}` : k);
}
