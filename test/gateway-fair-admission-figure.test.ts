import { describe, expect, it } from "vitest";
import { ModelConfigSchema, type ModelConfig } from "../components/config";
import { lookupInstanceType } from "../components/cluster/instances";
import { planGateway } from "../components/gateway";
import { inFlightPerPod } from "../components/gateway/runtime-config-from-stack";
import { adapterFor } from "../components/serving/engines";
import { contextOf, specOf } from "../components/serving/context";
import { FairQueue } from "../images/gateway/src/fair-queue";
import { parseStack } from "./config-helpers";

/**
 * Fair admission lets as many sequences (inputs, documents) in flight per ready pod as the engine batches well
 * (issue #22): the figure comes from each engine's adapter, as rendered for the model and its GPU (a knob in
 * extraArgs wins), the model's config can override it, and engines with no fixed figure keep the model's
 * autoscaling.inFlightPerReplica.
 */
const model = (over: Record<string, unknown>): ModelConfig =>
  ModelConfigSchema.parse({
    name: "m",
    model: "BAAI/bge-reranker-base",
    engine: "tei",
    task: "rerank",
    replicas: { min: 1, max: 2 },
    slo: { p99LatencyMs: 300 },
    ...over,
  });
const figure = (m: ModelConfig, instance?: string) => {
  const gpu = instance ? lookupInstanceType(instance) : undefined;
  return adapterFor(m.engine).batchRequests?.(contextOf(m, specOf(m)!, "prod", gpu))?.value;
};
const onGpu = { gpu: { nodeGroup: "g" } };

describe("each engine's batch figure (its adapter)", () => {
  it("vLLM: --max-num-seqs's default for the API server by GPU (256; 1024 from 70 GiB but not A100; 128 on CPU), capped by the context; extraArgs win", () => {
    const v = (o: Record<string, unknown> = {}) => model({ engine: "vllm", model: "BAAI/bge-reranker-v2-m3", ...o });
    expect(figure(v(onGpu), "g6.xlarge")).toBe(256); // L4 24 GiB
    expect(figure(v(onGpu), "g6e.xlarge")).toBe(256); // L40S 48 GiB
    expect(figure(v(onGpu), "p4d.24xlarge")).toBe(256); // A100: excluded by name upstream
    expect(figure(v(onGpu), "p5.4xlarge")).toBe(1024); // H100 80 GiB
    expect(figure(v())).toBe(128); // CPU
    expect(figure(v({ ...onGpu, maxModelLen: 128 }), "g6.xlarge")).toBe(128);
    expect(figure(v({ ...onGpu, extraArgs: ["--max-num-seqs", "64"] }), "p5.4xlarge")).toBe(64);
    expect(figure(v({ ...onGpu, extraArgs: ["--max-num-seqs=48"] }), "g6.xlarge")).toBe(48);
  });

  it("TEI: the full-length inputs its token budget fits (16384 / max tokens), or --max-batch-requests; within --max-concurrent-requests", () => {
    expect(figure(model({}))).toBe(32); // 512-token reranker
    expect(figure(model({ model: "BAAI/bge-reranker-v2-m3" }))).toBe(2); // 8192 tokens
    expect(figure(model({ model: "BAAI/bge-reranker-v2-m3", maxModelLen: 1024 }))).toBe(16);
    expect(figure(model({ extraArgs: ["--max-batch-tokens", "32768"] }))).toBe(64);
    expect(figure(model({ extraArgs: ["--max-batch-requests", "8"] }))).toBe(8);
    expect(figure(model({ extraArgs: ["--max-batch-requests", "900"] }))).toBe(512);
  });

  it("SGLang: --max-running-requests when extraArgs set it; else none (derived from free memory at start)", () => {
    const s = (o: Record<string, unknown> = {}) =>
      model({ engine: "sglang", model: "BAAI/bge-reranker-v2-m3", ...onGpu, ...o });
    expect(figure(s(), "g6.xlarge")).toBeUndefined();
    expect(figure(s({ extraArgs: ["--max-running-requests", "48"] }), "g6.xlarge")).toBe(48);
  });

  it("KServe and Xinference declare none: the model's autoscaling.inFlightPerReplica is used", () => {
    const stack = parseStack("prod");
    const g = { gateway: stack.gateway, environment: stack.environment, gpuNodeGroups: stack.gpuNodeGroups };
    for (const engine of ["kserve", "xinference"] as const) {
      expect(adapterFor(engine).batchRequests).toBeUndefined();
      const m = model({
        engine,
        model: "BAAI/bge-small-en-v1.5",
        task: "embed",
        autoscaling: { inFlightPerReplica: 12 },
      });
      expect(inFlightPerPod(m, g)).toMatchObject({ value: 12 });
    }
  });
});

describe("what the gateway's runtime config gets", () => {
  it("prod: vLLM on L40S 256, TEI-less SGLang and KServe their autoscaling figure; gateway.inFlightPerPod overrides", () => {
    const stack = parseStack("prod");
    const plan = (gateway = stack.gateway, withGroups = true) =>
      planGateway({
        name: "gateway",
        environment: stack.environment,
        gateway,
        models: stack.models,
        namespace: "retrieval",
        modelsNamespace: "retrieval",
        monitoring: true,
        secretKeys: true,
        image: "example.com/gateway:1",
        ...(withGroups ? { gpuNodeGroups: stack.gpuNodeGroups } : {}),
      }).runtimeConfig.models;
    const perPod = (models: ReturnType<typeof plan>) =>
      Object.fromEntries(models.map((m) => [m.name, m.maxInFlightPerPod]));
    const byModel = Object.fromEntries(stack.models.map((m) => [m.name, m]));
    const vllmModel = stack.models.find((m) => m.engine === "vllm")!;
    expect(stack.gpuNodeGroups[vllmModel.gpu!.nodeGroup]!.instanceTypes[0]).toMatch(/^g6e\./); // L40S
    const figures = perPod(plan());
    expect(figures[vllmModel.name]).toBe(256);
    for (const m of stack.models.filter((x) => x.engine === "sglang" || x.engine === "kserve"))
      expect(figures[m.name]).toBe(byModel[m.name]!.autoscaling.inFlightPerReplica);
    // The model's config overrides.
    const over = perPod(plan({ ...stack.gateway, inFlightPerPod: { [vllmModel.name]: 40 } }));
    expect(over[vllmModel.name]).toBe(40);
    // Without the node groups the GPU is unknown: no guess, the model's autoscaling figure.
    expect(perPod(plan(stack.gateway, false))[vllmModel.name]).toBe(vllmModel.autoscaling.inFlightPerReplica);
  });

  it("local: TEI on CPU, 32 per pod for 512-token models", () => {
    const stack = parseStack("local");
    for (const m of stack.models.filter((x) => x.engine === "tei"))
      expect(inFlightPerPod(m, stack), m.name).toMatchObject({ value: 32 });
  });
});

describe("fair admission counts sequences against the figure", () => {
  it("a request holds its inputs' worth; the next waits until they are released; one larger than the limit runs alone", async () => {
    const q = new FairQueue("m", 8, () => 1, 100);
    const a = await q.acquire("a", 6);
    let bIn = false;
    const b = q.acquire("b", 4).then((r) => ((bIn = true), r));
    await new Promise((r) => setTimeout(r, 10));
    expect(bIn).toBe(false);
    expect(q.sequencesInFlight).toBe(6);
    a();
    const releaseB = await b;
    expect(q.sequencesInFlight).toBe(4);
    releaseB();
    const huge = await q.acquire("a", 50); // counts as the whole limit: alone, never starved
    expect(q.sequencesInFlight).toBe(8);
    let small = false;
    const s = q.acquire("b", 1).then((r) => ((small = true), r));
    await new Promise((r) => setTimeout(r, 10));
    expect(small).toBe(false);
    huge();
    (await s)();
    expect(q.sequencesInFlight).toBe(0);
  });

  it("round-robin between keys: a flood of one key does not pass the other's queued request", async () => {
    const q = new FairQueue("m", 2, () => 1, 100);
    const first = await q.acquire("flood", 2);
    const order: string[] = [];
    const waits = [
      ...Array.from({ length: 5 }, () => q.acquire("flood", 2).then((r) => (order.push("flood"), r))),
      q.acquire("other", 2).then((r) => (order.push("other"), r)),
    ];
    const granted: (() => void)[] = [];
    for (const w of waits) void w.then((r) => granted.push(r));
    first();
    for (let i = 0; i < 100 && order.length < 6; i++) {
      await new Promise((r) => setTimeout(r, 2));
      granted.shift()?.();
    }
    expect(order).toHaveLength(6);
    expect(order.indexOf("other")).toBeLessThanOrEqual(1);
  });
});

describe("gateway.inFlightPerPod in the stack file", () => {
  it("an entry for a model that is not deployed is refused, naming the path and the fix", async () => {
    const { errorOf } = await import("./config-helpers");
    const msg = errorOf("prod", (raw) => {
      raw.gateway = { ...(raw.gateway ?? {}), inFlightPerPod: { "no-such-model": 8 } };
    });
    expect(msg).toContain("retrieval-stack:gateway.inFlightPerPod.no-such-model");
    expect(msg).toContain("is not a model of this stack");
  });
});
