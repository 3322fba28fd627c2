import { cpuMillis, memoryBytes } from "../../config/formats";
import { problem } from "../../config/errors";
import { lookupInstanceType } from "../../cluster/instances";
import type { Rule, RuleProblem } from "./types";

/**
 * vCPUs of a general-purpose instance type from its size (large = 2, xlarge = 4, Nxlarge = 4N) and memory at the
 * m family's 4 GiB per vCPU (EC2 instance type docs, general purpose M5/M6i/M7i, read 2026-12-07). Undefined for a
 * type of another family or size, which then goes unchecked.
 */
function systemNodeSize(type: string): { vcpu: number; memoryGiB: number } | undefined {
  const m = /^m[5-8][a-z]*\.(large|xlarge|(\d+)xlarge)$/.exec(type);
  if (!m) return undefined;
  const vcpu = m[1] === "large" ? 2 : m[1] === "xlarge" ? 4 : 4 * Number(m[2]);
  return { vcpu, memoryGiB: vcpu * 4 };
}

const GiB = 2 ** 30;
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/**
 * Requests that no node can hold, and CPU-served models that together need more than the system node group has.
 * A GPU model's requests must fit one node of its GPU group; a CPU model (no `gpu`) runs on the system node group
 * of an EKS cluster, whose maxSize x vCPU (and memory) must hold every CPU model at its replicas.min.
 */
export const capacityRules: Rule = (config) => {
  const models = config.models ?? [];
  const out: RuleProblem[] = [];
  const system = config.cluster?.mode === "eks" ? config.cluster.systemNodeGroup : undefined;
  const systemNode = system ? systemNodeSize(system.instanceType) : undefined;
  let cpuNeed = 0;
  let memNeed = 0;
  const cpuModels: string[] = [];
  models.forEach((m, i) => {
    if (!m?.resources) return;
    const millis = cpuMillis(m.resources.cpu) ?? 0;
    const bytes = memoryBytes(m.resources.memory) ?? 0;
    const group = m.gpu ? config.gpuNodeGroups?.[m.gpu.nodeGroup] : undefined;
    const gpuNode = group ? lookupInstanceType(group.instanceTypes[0] ?? "") : undefined;
    const node = m.gpu
      ? gpuNode && { name: `${group!.instanceTypes[0]} (gpuNodeGroups.${m.gpu.nodeGroup})`, ...gpuNode }
      : systemNode && { name: `${system!.instanceType} (cluster.systemNodeGroup)`, ...systemNode };
    const at = ["models", i, "resources"];
    if (node && millis > node.vcpu * 1000)
      out.push(
        problem(
          [...at, "cpu"],
          m.resources.cpu,
          `asks for more CPU than one ${node.name} node has (${node.vcpu} vCPU), so the pod would never be scheduled`,
          `ask for at most ${node.vcpu - 1}, or use a larger instance type`,
        ),
      );
    if (node && bytes > node.memoryGiB * GiB)
      out.push(
        problem(
          [...at, "memory"],
          m.resources.memory,
          `asks for more memory than one ${node.name} node has (${node.memoryGiB} GiB), so the pod would never be scheduled`,
          `ask for less than ${node.memoryGiB}Gi, or use a larger instance type`,
        ),
      );
    if (!m.gpu) {
      cpuNeed += (millis / 1000) * m.replicas.min;
      memNeed += (bytes / GiB) * m.replicas.min;
      cpuModels.push(m.name);
    }
  });
  if (system && systemNode && cpuModels.length) {
    const cpuHave = system.maxSize * systemNode.vcpu;
    const memHave = system.maxSize * systemNode.memoryGiB;
    const which =
      cpuModels.length > 3
        ? `${cpuModels.length} CPU-served models`
        : `the CPU-served models (${cpuModels.join(", ")})`;
    if (cpuNeed > cpuHave || memNeed > memHave)
      out.push(
        problem(
          ["cluster", "systemNodeGroup", "maxSize"],
          system.maxSize,
          `gives at most ${cpuHave} vCPU and ${memHave} GiB (${system.maxSize} x ${system.instanceType}), but ${which} need ${fmt(cpuNeed)} vCPU and ${fmt(memNeed)} GiB at their replicas.min, before the system pods, so their pods would stay Pending`,
          "raise maxSize or use a larger instance type, lower the models' replicas.min or resources, or serve them on a GPU node group",
        ),
      );
  }
  return out;
};
