import { afterAll, describe, expect, it } from "vitest";
import { dialectNamed } from "../components/serving/dialects";
import { EngineClient } from "../images/verifier/src/client";
import { DEFAULT_RETRY, Deadline } from "../images/verifier/src/http";
import { roundBfloat16 } from "../components/fingerprint/float16";
import { confirmationId, type Fingerprint, type FingerprintKey } from "../components/fingerprint/fingerprint";
import { judgeFingerprint, takeFingerprint } from "../components/fingerprint/probe-run";
import { verifyTarget } from "../images/verifier/src/verify";
import { runTarget } from "../images/canary/src/run";
import { Registry } from "../images/canary/src/metrics";
import { CanaryTargetSchema } from "../components/contracts/canary";
import { catalogueDims, startFakeServer, type FakeServer, type FakeServerOptions } from "./fixtures/engine-server";

/**
 * Fingerprints taken over real sockets from fake engines whose answers drift in controlled ways: bf16-level
 * noise (must pass), a normalisation change, permuted dimensions, a reversed reranker, a reranker that
 * duplicates an index (must never become a fingerprint).
 */
const servers: FakeServer[] = [];
const deadline = new Deadline(60_000);
afterAll(async () => {
  deadline.dispose();
  await Promise.all(servers.map((s) => s.close()));
});

async function client(options: FakeServerOptions): Promise<EngineClient> {
  const s = await startFakeServer(options);
  servers.push(s);
  return new EngineClient(
    s.url,
    dialectNamed(options.dialect === "tei" ? "tei" : "vllm")!,
    options.servedModel ?? "m",
    {
      requestTimeoutMs: 5000,
      retry: { ...DEFAULT_RETRY, maxRetries: 0 },
      deadline,
    },
  );
}

const embedKey: FingerprintKey = {
  modelId: "BAAI/bge-small-zh-v1.5",
  revision: "7999e1d",
  engine: "tei",
  engineVersion: "1.8.2",
  dtype: "float16",
  dimensions: 512,
};

describe("embedding fingerprints from fake engines over HTTP", async () => {
  const base = { dialect: "tei", servedModel: "bge-small-zh", dims: 512 } as const;
  const first = await takeFingerprint(await client(base), "embed", embedKey, ["zh"]);

  it("the first deploy records; the same engine again matches", async () => {
    expect(judgeFingerprint("bge-small-zh", "models[0]", undefined, first).status).toBe("recorded");
    expect(first.fingerprint.probes).toHaveLength(16); // the zh probes only: the model is Chinese
    const again = await takeFingerprint(await client(base), "embed", embedKey, ["zh"]);
    const v = judgeFingerprint("bge-small-zh", "models[0]", first.fingerprint, again);
    expect(v).toMatchObject({ status: "match", pass: true });
    expect(v.keep).toBe(first.fingerprint);
  });

  it("bf16-level noise on every value passes", async () => {
    const noisy = await client({ ...base, revector: (v) => v.map((x) => roundBfloat16(x * (1 + 2 ** -9))) });
    const now = await takeFingerprint(noisy, "embed", { ...embedKey, dtype: "bfloat16" }, ["zh"]);
    expect(judgeFingerprint("bge-small-zh", "models[0]", first.fingerprint, now).status).toBe("match");
  });

  it("a normalisation change fails, naming the model, the change and the fix", async () => {
    const unnormalised = await client({ ...base, revector: (v, t) => v.map((x) => x * (2 + (t.length % 5))) });
    const key = { ...embedKey, engineVersion: "1.9.0" };
    const now = await takeFingerprint(unnormalised, "embed", key, ["zh"]);
    const v = judgeFingerprint("bge-small-zh", "models[0]", first.fingerprint, now);
    expect(v).toMatchObject({ status: "drift", pass: false });
    expect(v.keep).toBe(first.fingerprint);
    expect(v.message).toContain("bge-small-zh (BAAI/bge-small-zh-v1.5): the vectors drifted");
    expect(v.message).toContain("What changed: engine version 1.8.2 -> 1.9.0.");
    expect(v.message).toContain("Fix: revert (set engineVersion: 1.8.2 again)");
    const confirm = confirmationId(first.fingerprint, key);
    expect(v.message).toContain(`models[0].reindexConfirmed: "${confirm}"`);
    // After a re-index, the confirmation makes the new vectors the record.
    const confirmed = judgeFingerprint("bge-small-zh", "models[0]", first.fingerprint, now, confirm);
    expect(confirmed).toMatchObject({ status: "reindexed", pass: true });
    expect(confirmed.keep).toBe(now.fingerprint);
  });

  it("permuted dimensions fail on the cosine", async () => {
    const permuted = await client({ ...base, revector: (v) => [...v].reverse() });
    const now = await takeFingerprint(permuted, "embed", embedKey, ["zh"]);
    const v = judgeFingerprint("bge-small-zh", "models[0]", first.fingerprint, now);
    expect(v.status).toBe("drift");
    expect(v.comparison!.minSimilarity).toBeLessThan(0.5);
    expect(v.message).toContain("nothing in the config");
  });
});

describe("rerank fingerprints from fake engines over HTTP", async () => {
  const key = {
    ...embedKey,
    modelId: "BAAI/bge-reranker-base",
    engine: "vllm",
    engineVersion: "v0.27.1",
    dimensions: 0,
  };
  const base = { dialect: "vllm", servedModel: "rr" } as const;
  const first = await takeFingerprint(await client(base), "rerank", key, ["zh", "en"]);

  it("the same scores match; a reversed reranker fails on Kendall tau", async () => {
    const again = await takeFingerprint(await client(base), "rerank", key, ["zh", "en"]);
    expect(judgeFingerprint("rr", "models[1]", first.fingerprint, again).status).toBe("match");
    const reversed = await takeFingerprint(await client({ ...base, rescore: (s) => -s }), "rerank", key, ["zh", "en"]);
    const v = judgeFingerprint("rr", "models[1]", first.fingerprint, reversed);
    expect(v.status).toBe("drift");
    expect(v.message).toMatch(/the rerank scores drifted .*lowest Kendall tau -/);
  });

  it("an answer with a duplicated index never becomes a fingerprint", async () => {
    await expect(takeFingerprint(await client({ ...base, fault: "dup-index" }), "rerank", key, ["en"])).rejects.toThrow(
      /rerank probe en-r1: index \d+ appears twice/,
    );
  });
});

describe("fake engines answer like the model they play", () => {
  it("a stack name or Hugging Face id of a catalogue model gets that model's vector size (the docs' demos)", async () => {
    expect(catalogueDims("bge-small-zh")).toBe(512);
    expect(catalogueDims("BAAI/bge-base-zh-v1.5")).toBe(768);
    expect(catalogueDims("gte-base")).toBe(768);
    expect(catalogueDims("some-model")).toBeUndefined();
    // docs/playground.md: `serve-fake.ts tei bge-small-zh 18081` behind the local stack's 512-dim bge-small-zh.
    const c = await client({ dialect: "tei", servedModel: "bge-small-zh" });
    expect((await c.embed(["你好"])).value[0]).toHaveLength(512);
  });
});

describe("the verifier and the canary with fingerprints, over real sockets", () => {
  const OPTIONS = {
    requests: 2,
    concurrency: 1,
    timeoutSeconds: 30,
    requestTimeoutSeconds: 5,
    maxRetries: 0,
    quality: { enabled: false, minMrrAt10: 0.75 },
    checkLoadGenerator: false,
  };
  const fake = async (o: Partial<FakeServerOptions> = {}) => {
    const s = await startFakeServer({ dialect: "tei", servedModel: "bge-small-zh", dims: 512, ...o });
    servers.push(s);
    return s.url;
  };
  const target = (url: string, recorded?: Fingerprint) => ({
    name: "bge-small-zh",
    url,
    dialect: "tei",
    task: "embed" as const,
    servedModel: "bge-small-zh",
    dims: 512,
    languages: ["zh"],
    fingerprint: { key: embedKey, configPath: "models.bge-small-zh", ...(recorded ? { recorded } : {}) },
  });

  it("the first verified deploy records; a later deploy with drifted vectors fails naming the fix", async () => {
    const first = await verifyTarget(target(await fake()), OPTIONS);
    const row = first.checks.find((c) => c.check === "fingerprint")!;
    expect(row).toMatchObject({ status: "pass" });
    expect(row.got).toMatch(/^bge-small-zh: fingerprint fp-[0-9a-f]{12} recorded \(16 probes;/);
    expect(first.fingerprint?.task).toBe("embed");
    const drifted = await verifyTarget(
      target(await fake({ revector: (v) => v.map((x, i) => (i % 2 ? x : -x)) }), first.fingerprint),
      OPTIONS,
    );
    expect(drifted.pass).toBe(false);
    const failed = drifted.checks.find((c) => c.check === "fingerprint")!;
    expect(failed.status).toBe("fail");
    expect(failed.got).toContain("bge-small-zh (BAAI/bge-small-zh-v1.5): the vectors drifted");
    expect(failed.got).toContain('models.bge-small-zh.reindexConfirmed: "fp-');
    expect(drifted.fingerprint).toEqual(first.fingerprint); // the record stays until a confirmed re-index
  });

  it("the canary exports drift and match: 0 and 1 for the same engine, > 0.5 and 0 for a permuted one", async () => {
    const first = await verifyTarget(target(await fake()), OPTIONS);
    const config = { requestTimeoutSeconds: 5, maxRetries: 0, intervalSeconds: 60 };
    const registry = new Registry();
    const same = CanaryTargetSchema.parse({ ...target(await fake(), first.fingerprint), name: "same" });
    expect((await runTarget(same, config, registry)).fingerprint).toBe(true);
    expect(registry.get("fingerprintMatch", { model: "same" })).toBe(1);
    expect(registry.get("fingerprintDrift", { model: "same" })).toBeLessThan(1e-4);
    const permuted = CanaryTargetSchema.parse({
      ...target(await fake({ revector: (v) => [...v].reverse() }), first.fingerprint),
      name: "permuted",
    });
    expect((await runTarget(permuted, config, registry)).fingerprint).toBe(false);
    expect(registry.get("fingerprintMatch", { model: "permuted" })).toBe(0);
    expect(registry.get("fingerprintDrift", { model: "permuted" })).toBeGreaterThan(0.5);
    expect(registry.expose()).toMatch(/^retrieval_stack_canary_fingerprint_match\{model="permuted"\} 0$/m);
  });
});
