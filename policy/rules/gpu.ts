import { GPU_RESOURCE, GPU_TAINT } from "../../components/k8s/meta";
import {
  asArray,
  asObject,
  asString,
  containersOf,
  describe,
  gpuQuantity,
  podTemplatesOf,
  requestsGpu,
  type Json,
} from "./k8s";
import type { ResourceRule } from "./types";

/** Whether a toleration lets a pod onto nodes tainted `nvidia.com/gpu=true:NoSchedule`. */
export function toleratesGpuTaint(toleration: Json): boolean {
  const key = asString(toleration.key);
  const operator = asString(toleration.operator) ?? "Equal";
  const effect = asString(toleration.effect);
  // An empty key with Exists tolerates every taint; an empty effect matches every effect (Kubernetes API reference, Toleration).
  const keyMatches =
    operator === "Exists" ? key === undefined || key === "" || key === GPU_TAINT.key : key === GPU_TAINT.key;
  const valueMatches = operator === "Exists" || asString(toleration.value) === GPU_TAINT.value;
  const effectMatches = effect === undefined || effect === "" || effect === GPU_TAINT.effect;
  return keyMatches && valueMatches && effectMatches;
}

export const gpuPodsTolerateGpuTaint: ResourceRule = {
  scope: "resource",
  name: "gpu-pods-tolerate-gpu-taint",
  description: `Pods that request ${GPU_RESOURCE} tolerate the GPU node taint ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}.`,
  enforcementLevel: "mandatory",
  rationale:
    "GPU nodes carry this taint; a GPU pod without the toleration stays Pending forever and the deploy hangs until its timeout.",
  remediation: `Add { key: "${GPU_TAINT.key}", operator: "Equal", value: "${GPU_TAINT.value}", effect: "${GPU_TAINT.effect}" } to the pod's tolerations (GPU_TAINT in components/k8s/meta.ts).`,
  validate(resource) {
    return podTemplatesOf(resource)
      .filter(requestsGpu)
      .filter((t) => !asArray(t.spec.tolerations).some((x) => toleratesGpuTaint(asObject(x) ?? {})))
      .map(
        (t) =>
          `${describe(resource)} requests ${GPU_RESOURCE} but ${t.path}.tolerations has no toleration for ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}; the pod would never schedule on a GPU node.`,
      );
  },
};

/** A whole-GPU count: a positive integer, as a number or a plain digit string ("1", not "0.5" or "500m"). */
export function isWholeGpuCount(v: unknown): boolean {
  if (typeof v === "number") return Number.isInteger(v) && v >= 1;
  return typeof v === "string" && /^[1-9][0-9]*$/.test(v);
}

export const gpuRequestsAreWholeGpus: ResourceRule = {
  scope: "resource",
  name: "gpu-requests-whole-gpus",
  description: `Containers ask for ${GPU_RESOURCE} in resources.limits as a whole number (requests, if set, equal limits).`,
  enforcementLevel: "mandatory",
  rationale:
    "Kubernetes accepts extended resources only as integers in limits (requests default to and must equal limits); anything else is rejected by the API server at deploy time, or, for a request without a limit, never schedules.",
  remediation: `Set resources.limits["${GPU_RESOURCE}"] to the GPU count (e.g. 1); to share a GPU use time-slicing or MIG in the GPU runtime, not fractions.`,
  validate(resource) {
    const out: string[] = [];
    for (const t of podTemplatesOf(resource)) {
      for (const c of containersOf(t)) {
        const limit = gpuQuantity(c.container, "limits");
        const request = gpuQuantity(c.container, "requests");
        if (limit === undefined && request === undefined) continue;
        const where = `${describe(resource)} container "${c.name}" (${c.path})`;
        if (limit === undefined)
          out.push(
            `${where} requests ${GPU_RESOURCE}=${String(request)} without a limit; set resources.limits["${GPU_RESOURCE}"].`,
          );
        else if (!isWholeGpuCount(limit))
          out.push(
            `${where} limits ${GPU_RESOURCE} to ${JSON.stringify(limit)}; it must be a whole number of GPUs such as 1.`,
          );
        if (request !== undefined && limit !== undefined && String(request) !== String(limit))
          out.push(
            `${where} requests ${GPU_RESOURCE}=${String(request)} but limits it to ${String(limit)}; they must be equal.`,
          );
      }
    }
    return out;
  },
};
