import { describe, expect, it } from "vitest";
import { parseStack, problemsOf } from "./config-helpers";

/** The model entry named `name` in a raw stack config. */
const model = (raw: any, name: string) => raw.models.find((m: any) => m.name === name);

describe("serving config errors name the field, the value and the fix", () => {
  it("TEI cannot serve Qwen3-Reranker: names vLLM and SGLang", () => {
    const [p, ...rest] = problemsOf("prod", (raw) => (model(raw, "qwen3-reranker").engine = "tei"));
    expect(rest).toEqual([]);
    expect(p!.path).toBe("retrieval-stack:models[2].engine");
    expect(p!.value).toBe("tei");
    expect(p!.message).toMatch(/TEI cannot serve Qwen\/Qwen3-Reranker-4B.*Fix: set engine: vllm .* or engine: sglang/);
  });

  it("KServe's Hugging Face backend has no rerank", () => {
    const problems = problemsOf("prod", (raw) =>
      Object.assign(model(raw, "gte-base"), {
        model: "BAAI/bge-reranker-v2-m3",
        task: "rerank",
        engineOptions: { backend: "huggingface" },
      }),
    );
    expect(problems.map((p) => [p.path, p.value])).toContainEqual([
      "retrieval-stack:models[1].engineOptions.backend",
      "huggingface",
    ]);
    expect(problems.find((p) => p.path.endsWith("engineOptions.backend"))!.message).toMatch(
      /no rerank endpoint.*Fix: set engineOptions.backend: vllm/,
    );
  });

  it("KServe's Hugging Face backend would mean-pool a CLS-pooled BGE model", () => {
    const [p] = problemsOf("prod", (raw) =>
      Object.assign(model(raw, "gte-base"), {
        model: "BAAI/bge-large-zh-v1.5",
        engineOptions: { backend: "huggingface" },
      }),
    );
    expect(p!.message).toMatch(/mean-pools.*cls pooling.*Fix: set engineOptions.backend: vllm/);
  });

  it("KServe options are checked: unknown keys are refused", () => {
    const [p] = problemsOf(
      "prod",
      (raw) => (model(raw, "gte-base").engineOptions = { backend: "vllm", storageUri: "s3://x" }),
    );
    expect(p!.path).toBe("retrieval-stack:models[1].engineOptions");
    expect(p!.message).toMatch(/Fix: remove other keys/);
  });

  it("SGLang must not run Qwen3-Reranker with --is-embedding", () => {
    const [p] = problemsOf("prod", (raw) =>
      Object.assign(model(raw, "qwen3-reranker"), { engine: "sglang", extraArgs: ["--is-embedding"] }),
    );
    expect(p!.path).toBe("retrieval-stack:models[2].extraArgs");
    expect(p!.message).toMatch(/must NOT run it with --is-embedding.*Fix: remove "--is-embedding"/);
  });

  it("dimensions on a model without Matryoshka support", () => {
    const [p] = problemsOf("prod", (raw) => (model(raw, "bge-large-zh").dimensions = 256));
    expect(p!.path).toBe("retrieval-stack:models[0].dimensions");
    expect(p!.value).toBe(256);
    expect(p!.message).toMatch(/does not support Matryoshka.*Fix: remove "dimensions"/);
  });

  it("maxModelLen above the model's maximum", () => {
    const [p] = problemsOf("prod", (raw) => (model(raw, "bge-large-zh").maxModelLen = 8192));
    expect(p!.path).toBe("retrieval-stack:models[0].maxModelLen");
    expect(p!.message).toMatch(/exceeds BAAI\/bge-large-zh-v1.5's maximum of 512 tokens. Fix: set maxModelLen <= 512/);
  });

  it("GPU memory too small for the model at that context (4B reranker at 32k on a 24 GB L4)", () => {
    const [p] = problemsOf("prod", (raw) => (model(raw, "qwen3-reranker").gpu = { nodeGroup: "l4" }));
    expect(p!.path).toBe("retrieval-stack:models[2].maxModelLen");
    expect(p!.message).toMatch(/needs ~\d+(\.\d)? GiB of GPU memory.*gives 21\.6 GiB\. Fix: set a smaller maxModelLen/);
  });

  it("min replicas above max", () => {
    const problems = problemsOf("prod", (raw) => (model(raw, "gte-base").replicas = { min: 4, max: 3 }));
    expect(problems.map((p) => p.path)).toContain("retrieval-stack:models[1].replicas.min");
    expect(problems.find((p) => p.path.endsWith("replicas.min"))!.message).toMatch(
      /above replicas.max \(3\). Fix: set min <= max/,
    );
  });

  it("an engine image tag `latest`", () => {
    const [p] = problemsOf("prod", (raw) => (model(raw, "qwen3-reranker").engineVersion = "latest"));
    expect(p!.path).toBe("retrieval-stack:models[2].engineVersion");
    expect(p!.message).toMatch(/not "latest"/);
  });

  it("vLLM and SGLang need a GPU; the fix names the CPU engine", () => {
    const [p] = problemsOf("local", (raw) => (model(raw, "bge-small-zh").engine = "sglang"));
    expect(p!.path).toBe("retrieval-stack:models[0].gpu");
    expect(p!.message).toMatch(/SGLang needs a GPU.*Fix: set gpu.nodeGroup, or use engine: tei on CPU/);
  });

  it("engines that take no engineOptions refuse them", () => {
    const [p] = problemsOf("prod", (raw) => (model(raw, "qwen3-reranker").engineOptions = { backend: "vllm" }));
    expect(p!.path).toBe("retrieval-stack:models[2].engineOptions");
    expect(p!.message).toMatch(/vLLM takes no engineOptions \(got "backend"\)/);
  });

  it("TEI accepts float16/float32 only, and one GPU", () => {
    const problems = problemsOf("prod", (raw) =>
      Object.assign(model(raw, "bge-large-zh"), {
        engine: "tei",
        dtype: "bfloat16",
        gpu: { nodeGroup: "l4", count: 2 },
      }),
    );
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(["retrieval-stack:models[0].dtype", "retrieval-stack:models[0].gpu.count"]),
    );
  });

  it("an unknown node group is reported once, without a misleading adapter error", () => {
    const problems = problemsOf("prod", (raw) => (model(raw, "qwen3-reranker").gpu = { nodeGroup: "a100" }));
    expect(problems.map((p) => p.path)).toEqual(["retrieval-stack:models[2].gpu.nodeGroup"]);
  });

  it("the shipped stacks are valid, including every adapter's checks", () => {
    for (const s of ["local", "dev", "staging", "prod"]) expect(() => parseStack(s)).not.toThrow();
  });
});

describe("scale to zero needs a working-hours schedule", () => {
  const hours = (raw: any, name: string) => model(raw, name).autoscaling.activeHours;

  it("dev's models scale to zero on a weekday schedule (Asia/Shanghai, 08:00-20:00)", () => {
    for (const m of parseStack("dev").models) {
      expect(m.replicas.min).toBe(0);
      expect(m.autoscaling.activeHours).toEqual({
        timezone: "Asia/Shanghai",
        start: "0 8 * * 1-5",
        end: "0 20 * * 1-5",
      });
    }
  });

  it("replicas.min 0 without activeHours is an error naming the field, the value and both fixes", () => {
    const [p, ...rest] = problemsOf("dev", (raw) => delete model(raw, "bge-large-zh").autoscaling);
    expect(rest).toEqual([]);
    expect(p!.path).toBe("retrieval-stack:models[0].replicas.min");
    expect(p!.value).toBe(0);
    expect(p!.message).toMatch(
      /scale to zero, but nothing would bring it back.*Fix: set autoscaling\.activeHours \(e\.g\. \{ timezone: "Asia\/Shanghai", start: "0 8 \* \* 1-5", end: "0 20 \* \* 1-5" \}.*\), or set replicas\.min: 1\./,
    );
  });

  it("replicas.min 0 without KEDA (observability off) is refused", () => {
    const problems = problemsOf("dev", (raw) => (raw.observability = { ...raw.observability, enabled: false }));
    expect(problems.find((p) => p.path === "retrieval-stack:models[0].replicas.min")?.message).toMatch(
      /needs KEDA.*Fix: set replicas.min: 1, or enable observability/,
    );
  });

  it("an unknown, misspelt or offset time zone is refused with the fix", () => {
    const at = "retrieval-stack:models[1].autoscaling.activeHours.timezone";
    const unknown = problemsOf("dev", (raw) => (hours(raw, "qwen3-reranker").timezone = "Asia/Beijing"));
    expect(unknown).toEqual([
      expect.objectContaining({
        path: at,
        value: "Asia/Beijing",
        message: expect.stringMatching(/is not an IANA time zone name\. Fix: use a name such as "Asia\/Shanghai"/),
      }),
    ]);
    const lower = problemsOf("dev", (raw) => (hours(raw, "qwen3-reranker").timezone = "asia/shanghai"));
    expect(lower[0]!.message).toBe(
      'is spelled "Asia/Shanghai" in the IANA database (KEDA matches names case-sensitively). Fix: timezone: Asia/Shanghai.',
    );
    expect(problemsOf("dev", (raw) => (hours(raw, "qwen3-reranker").timezone = "+08:00"))[0]!.path).toBe(at);
  });

  it("cron expressions KEDA would refuse are errors naming the field and the fix", () => {
    const cases: [string, RegExp][] = [
      ["0 8 * *", /\(4 field\(s\) where it takes 5\)/],
      ["0 24 * * 1-5", /\(24 is outside 0-23 for the hour\)/],
      ["0 8 * * 1-7", /\(7 is outside 0-6 for the day of week\)/],
      ["@daily", /\(the descriptor @daily gives no explicit time\)/],
      ["0 20-8 * * *", /\(range "20-8" runs backwards for the hour\)/],
    ];
    for (const [start, says] of cases) {
      const [p, ...rest] = problemsOf("dev", (raw) => (hours(raw, "bge-large-zh").start = start));
      expect(rest).toEqual([]);
      expect(p).toMatchObject({ path: "retrieval-stack:models[0].autoscaling.activeHours.start", value: start });
      expect(p!.message).toMatch(says);
      expect(p!.message).toMatch(
        /Fix: write the 5 fields minute hour day-of-month month day-of-week, e\.g\. "0 8 \* \* 1-5"/,
      );
    }
    // Names, lists, steps and ? are cron as KEDA reads it.
    expect(() =>
      parseStack("dev", (raw) =>
        Object.assign(hours(raw, "bge-large-zh"), { start: "*/30 8 ? * MON-FRI", end: "0 20,22 * jan-dec 1-5" }),
      ),
    ).not.toThrow();
  });

  it("start equal to end never opens the window", () => {
    const [p] = problemsOf("dev", (raw) => (hours(raw, "bge-large-zh").end = "0  8 * * 1-5"));
    expect(p).toMatchObject({
      path: "retrieval-stack:models[0].autoscaling.activeHours.end",
      message: expect.stringMatching(/same as start.*Fix: set end/),
    });
  });

  it("activeHours on a model that never goes below one replica is refused as a no-op", () => {
    const problems = problemsOf(
      "prod",
      (raw) =>
        (model(raw, "gte-base").autoscaling = {
          activeHours: { timezone: "UTC", start: "0 8 * * *", end: "0 20 * * *" },
        }),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        path: "retrieval-stack:models[1].autoscaling.activeHours",
        message: expect.stringMatching(
          /has no effect: replicas.min is 2.*Fix: remove autoscaling.activeHours \(prod keeps at least 2 replicas\)\.$/,
        ),
      }),
    ]);
  });
});
