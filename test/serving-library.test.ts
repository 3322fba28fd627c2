// ModelService as another team's program uses it: the model as they write it, their namespace, their GPU, their
// switches, errors that name the argument.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { type ModelInput } from "../components/serving/context";
import { parseModelConfig } from "../components/serving/arguments";
import { SHIPPED_MODELS, one, podSpecOf, renderModel } from "./fixtures/serving";

const bge: ModelInput = {
  name: "bge",
  model: "BAAI/bge-large-zh-v1.5",
  engine: "vllm",
  task: "embed",
  replicas: { min: 1, max: 2 },
  gpu: { nodeGroup: "gpu" },
  slo: { p99LatencyMs: 300 },
};

async function argumentError(p: Promise<unknown>): Promise<pulumi.InputPropertiesError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(pulumi.InputPropertiesError.isInstance(e)).toBe(true);
  return e as pulumi.InputPropertiesError;
}

describe("ModelService arguments", () => {
  it("takes the model as written (no defaults), a GPU instance type and a plain namespace", async () => {
    const r = await renderModel(bge, { gpuInstanceType: "g6.xlarge", namespace: "search", hfToken: false });
    const d = one(r, "Deployment");
    expect(d.metadata.namespace).toBe("search");
    // Defaults applied by the component: dtype auto, memoryFraction 0.9, one GPU.
    const engine = podSpecOf(r).containers[0];
    expect(engine.args).toEqual(expect.arrayContaining(["--dtype", "auto", "--gpu-memory-utilization", "0.9"]));
    expect(engine.resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(r.component.url).toBeDefined();
    const url = await new Promise((resolve) => r.component.url.apply(resolve));
    expect(url).toBe("http://bge.search.svc.cluster.local");
    // The namespace reaches the autoscaler's PromQL, not a guessed constant.
    expect(r.component.scaling.triggers[0]!.query).toContain('namespace="search"');
    expect(one(r, "ServiceMonitor").spec.namespaceSelector).toEqual({ matchNames: ["search"] });
  });

  it("exposes its children as fields; serviceMonitor and autoscaling are separate switches", async () => {
    const both = await renderModel(bge, { gpuInstanceType: "g6.xlarge" });
    expect(both.component.service).toBeDefined();
    expect(both.component.workload).toBeDefined();
    expect(both.component.networkPolicy).toBeDefined();
    expect(both.component.serviceMonitor).toBeDefined();
    expect(both.component.scaledObject).toBeDefined();
    const noKeda = await renderModel(bge, { gpuInstanceType: "g6.xlarge", autoscaling: false });
    expect(noKeda.objects("ServiceMonitor")).toHaveLength(1);
    expect(noKeda.objects("ScaledObject")).toEqual([]);
    expect(noKeda.component.scaledObject).toBeUndefined();
    const noMonitor = await renderModel(bge, { gpuInstanceType: "g6.xlarge", monitoring: false });
    expect(noMonitor.objects("ServiceMonitor")).toEqual([]);
    expect(noMonitor.objects("ScaledObject")).toHaveLength(1);
  });

  it("a GPU model without a GPU instance type is an argument error naming gpuInstanceType, not a run-time crash", async () => {
    const e = await argumentError(renderModel(bge, { gpuInstanceType: undefined }));
    expect(e.errors.map((x) => x.propertyPath)).toEqual(["gpuInstanceType"]);
    expect(e.message).toContain('Fix: pass gpuInstanceType (e.g. "g6.xlarge")');
    expect(e.message).not.toMatch(/stack file|pulumi config/);
    const unknown = await argumentError(renderModel(bge, { gpuInstanceType: "g9.huge" }));
    expect(unknown.errors[0]).toMatchObject({ propertyPath: "gpuInstanceType" });
    expect(unknown.message).toContain('"g9.huge" is not a GPU instance type');
  });

  it("schema and engine problems name the property path under model.", async () => {
    const e = await argumentError(
      renderModel({ ...bge, replicas: { min: -1, max: 2 }, dtype: "fp8" as never }, { gpuInstanceType: "g6.xlarge" }),
    );
    expect(e.errors.map((x) => x.propertyPath).sort()).toEqual(["model.dtype", "model.replicas.min"]);
    const cpuVllm = await argumentError(renderModel({ ...bge, gpu: undefined }, {}));
    expect(cpuVllm.errors.map((x) => x.propertyPath)).toEqual(["model.gpu"]);
    expect(cpuVllm.message).toContain("vLLM needs a GPU");
  });

  it("lands on the caller's GPU nodes by their own labels when given (an existing cluster has no node-group label)", async () => {
    const r = await renderModel(bge, {
      gpuInstanceType: "g6.xlarge",
      gpuNodeLabels: { "nvidia.com/gpu.product": "NVIDIA-L4" },
    });
    const terms = podSpecOf(r).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toEqual([
      { matchExpressions: [{ key: "nvidia.com/gpu.product", operator: "In", values: ["NVIDIA-L4"] }] },
    ]);
    expect(podSpecOf(r).tolerations).toEqual([
      { key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" },
    ]);
  });

  it("SHIPPED_MODELS render through the same arguments (gpuNodeGroup still accepted)", async () => {
    const r = await renderModel(SHIPPED_MODELS.bgeLargeZh, {
      gpuInstanceType: undefined,
      gpuNodeGroup: { instanceTypes: ["g6.xlarge"] },
    });
    expect(one(r, "Deployment").spec.template.spec.affinity).toBeDefined();
  });
});

describe("parseModelConfig", () => {
  it("applies defaults and checks the model against the catalogue and the engine, without a platform config", () => {
    const m = parseModelConfig(bge, { environment: "prod", gpuInstanceType: "g6.xlarge" });
    expect(m.dtype).toBe("auto");
    expect(m.gpu).toEqual({ nodeGroup: "gpu", count: 1, memoryFraction: 0.9 });
    expect(m.extraArgs).toEqual([]);
  });

  it("throws InputPropertiesError with every property path", () => {
    let caught: unknown;
    try {
      parseModelConfig(
        { ...bge, name: "Not_A_Name", model: "bge" },
        { environment: "prod", gpuInstanceType: "g6.xlarge" },
      );
    } catch (e) {
      caught = e;
    }
    expect(pulumi.InputPropertiesError.isInstance(caught)).toBe(true);
    expect((caught as pulumi.InputPropertiesError).errors.map((e) => e.propertyPath).sort()).toEqual([
      "model.model",
      "model.name",
    ]);
  });

  it("an uncatalogued model without spec is refused at model.model with the fix", () => {
    expect(() =>
      parseModelConfig(
        { ...bge, model: "someone/unknown-embedder" },
        { environment: "prod", gpuInstanceType: "g6.xlarge" },
      ),
    ).toThrow(/model.model: someone\/unknown-embedder is not in the model catalogue.*Fix: pass model.spec/);
  });
});
