import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { GpuRuntime } from "../components/gpu";
import { DEVICE_PLUGIN_CHART } from "../components/gpu/device-plugin";
import { DCGM_EXPORTER_CHART } from "../components/gpu/dcgm";
import { GPU_CLASS_LABEL } from "../components/k8s/meta";
import type { GpuNodeGroupConfig } from "../components/config";
import { validateObjects, type K8sObject } from "../plan/validate";
import { parseStack } from "./config-helpers";
import { renderResources, type Rendered } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";

function render(gpuNodeGroups: Record<string, GpuNodeGroupConfig>, monitoring = true): Promise<Rendered> {
  return renderResources(() => {
    const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
    new GpuRuntime("gpu", { provider, gpuNodeGroups, monitoring });
  });
}

function groups(mutate?: (raw: any) => void): Record<string, GpuNodeGroupConfig> {
  return parseStack("prod", mutate).gpuNodeGroups;
}

/** The device plugin's config entry a node group selects, parsed. */
function pluginConfig(r: Rendered, entry: string): any {
  const text = r.inputs(RELEASE, "gpu-device-plugin").values.config.map[entry];
  if (typeof text !== "string") throw new Error(`no device-plugin config "${entry}"`);
  return YAML.parse(text);
}

describe("GpuRuntime: NVIDIA device plugin", () => {
  it("installs the pinned chart into its own privileged namespace, on GPU nodes only, tolerating the GPU taint", async () => {
    const r = await render(groups());
    const release = r.inputs(RELEASE, "gpu-device-plugin");
    expect(release).toMatchObject({
      chart: "nvidia-device-plugin",
      version: DEVICE_PLUGIN_CHART.version,
      repositoryOpts: { repo: "https://nvidia.github.io/k8s-device-plugin" },
      namespace: "gpu-runtime",
    });
    expect(release.version).toMatch(/^\d+\.\d+\.\d+$/);
    const terms = release.values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toContainEqual({ matchExpressions: [{ key: GPU_CLASS_LABEL, operator: "Exists" }] });
    expect(release.values.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    const [ns] = r.objects("Namespace");
    expect(ns!.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
  });

  it("without sharing, every group's config advertises whole GPUs", async () => {
    const r = await render(groups());
    expect(r.inputs(RELEASE, "gpu-device-plugin").values.config.default).toBe("default");
    for (const entry of ["default", "l4", "l40s"]) {
      const c = pluginConfig(r, entry);
      expect(c).toEqual({ version: "v1", flags: { migStrategy: "none" } });
    }
  });

  it("time-slices only the group that asks for it, keeping the resource name nvidia.com/gpu", async () => {
    const r = await render(groups((raw) => (raw.gpuNodeGroups.l4.sharing = { timeSlicingReplicas: 4 })));
    expect(pluginConfig(r, "l4").sharing.timeSlicing).toEqual({
      renameByDefault: false,
      failRequestsGreaterThanOne: true,
      resources: [{ name: "nvidia.com/gpu", replicas: 4 }],
    });
    expect(pluginConfig(r, "l40s").sharing).toBeUndefined();
  });

  it("sets the MIG strategy on a MIG-capable group", async () => {
    const config = parseStack("prod", (raw) => {
      raw.gpuNodeGroups.l40s = {
        instanceTypes: ["p5.48xlarge"],
        minSize: 3,
        maxSize: 3,
        sharing: { migStrategy: "single" },
      };
    });
    const r = await render(config.gpuNodeGroups);
    expect(pluginConfig(r, "l40s").flags.migStrategy).toBe("single");
    expect(pluginConfig(r, "l4").flags.migStrategy).toBe("none");
  });

  it("refuses a MIG strategy on a GPU without MIG before rendering (config rule)", () => {
    expect(() => parseStack("prod", (raw) => (raw.gpuNodeGroups.l4.sharing = { migStrategy: "mixed" }))).toThrow(
      /L4 GPUs do not support MIG/,
    );
  });
});

describe("GpuRuntime: DCGM exporter", () => {
  it("installs the pinned chart on GPU nodes and a ServiceMonitor that passes schema validation", async () => {
    const r = await render(groups());
    const release = r.inputs(RELEASE, "gpu-dcgm-exporter");
    expect(release).toMatchObject({
      chart: "dcgm-exporter",
      version: DCGM_EXPORTER_CHART.version,
      name: "dcgm-exporter",
    });
    expect(release.values.serviceMonitor.enabled).toBe(false);
    expect(release.values.tolerations[0].key).toBe("nvidia.com/gpu");
    const [sm] = r.objects<K8sObject & { spec: any }>("ServiceMonitor");
    expect(sm!.spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "dcgm-exporter",
      "app.kubernetes.io/instance": "dcgm-exporter",
    });
    expect(sm!.spec.endpoints[0]).toMatchObject({ port: "metrics", path: "/metrics" });
    expect(sm!.spec.endpoints[0].relabelings).toContainEqual({
      sourceLabels: ["__meta_kubernetes_pod_node_name"],
      targetLabel: "node",
      action: "replace",
    });
    expect(await validateObjects(r.objects<K8sObject>())).toEqual([]);
  });

  it("renders no ServiceMonitor when monitoring is off (no Prometheus Operator CRDs)", async () => {
    const r = await render(groups(), false);
    expect(r.objects("ServiceMonitor")).toEqual([]);
    expect(
      r
        .ofType(RELEASE)
        .map((x) => x.name)
        .sort(),
    ).toEqual(["gpu-dcgm-exporter", "gpu-device-plugin"]);
  });
});

describe("GpuRuntime without GPU node groups", () => {
  it("installs nothing (the CPU-only local stack)", async () => {
    const r = await render({});
    expect(r.ofType(RELEASE)).toEqual([]);
    expect(r.objects()).toEqual([]);
  });
});

describe("GpuRuntime on an existing cluster that already runs the GPU Operator", () => {
  it("installs nothing when the runtime is preinstalled", async () => {
    const r = await renderResources(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
      new GpuRuntime("gpu", { provider, gpuNodeGroups: groups(), monitoring: true, preinstalled: true });
    });
    expect(r.ofType(RELEASE)).toEqual([]);
    expect(parseStack("local", (raw) => (raw.cluster.gpuRuntimePreinstalled = true)).cluster).toMatchObject({
      mode: "existing",
      gpuRuntimePreinstalled: true,
    });
  });
});
