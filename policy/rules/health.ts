import {
  asObject,
  describe,
  get,
  isModelWorkload,
  kindOf,
  mainContainers,
  podTemplatesOf,
  type ContainerRef,
} from "./k8s";
import type { ResourceRule } from "./types";

/** CPU and memory requests a container gets: explicit requests, or limits (Kubernetes defaults requests to limits). */
function missingRequests(c: ContainerRef): string[] {
  const requests = asObject(get(c.container, "resources", "requests")) ?? {};
  const limits = asObject(get(c.container, "resources", "limits")) ?? {};
  return ["cpu", "memory"].filter((r) => requests[r] === undefined && limits[r] === undefined);
}

function missingProbes(c: ContainerRef): string[] {
  const has = (p: string) => asObject(c.container[p]) !== undefined;
  const missing: string[] = [];
  if (!has("readinessProbe")) missing.push("readinessProbe");
  if (!has("livenessProbe") && !has("startupProbe")) missing.push("livenessProbe or startupProbe");
  return missing;
}

export const modelWorkloadsHaveProbesAndRequests: ResourceRule = {
  scope: "resource",
  name: "model-workloads-probes-and-requests",
  description:
    "Model servers (GPU pods, InferenceServices, pods labelled as a model) have a readinessProbe, a liveness or startup probe, and CPU and memory requests.",
  enforcementLevel: "mandatory",
  rationale:
    "Without readiness a pod that is still loading weights takes traffic and returns errors; without a startup/liveness probe a hung engine is never restarted; without requests the scheduler packs model servers onto nodes that cannot hold them and the kubelet evicts them first.",
  remediation:
    "Take probes from the engine adapter (components/serving/engines/<engine>.ts) and set resources.requests.cpu and .memory on every serving container.",
  validate(resource) {
    const out: string[] = [];
    for (const t of podTemplatesOf(resource)) {
      if (!isModelWorkload(resource, t)) continue;
      for (const c of mainContainers(t)) {
        const missing = [...missingProbes(c), ...missingRequests(c).map((r) => `resources.requests.${r}`)];
        if (missing.length)
          out.push(`${describe(resource)} model container "${c.name}" (${c.path}) has no ${missing.join(", no ")}.`);
      }
    }
    return out;
  },
};

export const workloadsHaveReadinessAndRequests: ResourceRule = {
  scope: "resource",
  name: "workloads-readiness-and-requests",
  description:
    "Other long-running workloads we render (gateway, exporters) have a readinessProbe and CPU and memory requests.",
  enforcementLevel: "advisory",
  rationale:
    "Advisory: for a small helper a missing probe or request costs less than for a model server, and some sidecars legitimately have no HTTP endpoint to probe; a reviewer decides.",
  remediation:
    "Add a readinessProbe on the container's port and resources.requests.cpu/.memory sized from a load test.",
  validate(resource) {
    const out: string[] = [];
    for (const t of podTemplatesOf(resource)) {
      // ServingRuntimes are container templates for InferenceServices, checked through the InferenceService.
      if (!t.longRunning || isModelWorkload(resource, t) || /ServingRuntime$/.test(kindOf(resource) ?? "")) continue;
      for (const c of mainContainers(t)) {
        const missing = [
          ...(asObject(c.container.readinessProbe) ? [] : ["readinessProbe"]),
          ...missingRequests(c).map((r) => `resources.requests.${r}`),
        ];
        if (missing.length)
          out.push(`${describe(resource)} container "${c.name}" (${c.path}) has no ${missing.join(", no ")}.`);
      }
    }
    return out;
  },
};
