import { afterAll, describe, expect, it } from "vitest";
import { localVerificationProvider } from "../components/verification/provider";
import { fingerprintTargetFor, targetFor } from "../components/verification/verification";
import { VerificationSchema } from "../components/config/verification";
import { ModelConfigSchema } from "../components/config";
import type { LocalVerificationInputs } from "../components/contracts/stack-outputs";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";

/**
 * Where the fingerprint survives (#25): the local verification resource's state. The first deploy's create
 * records it; an update compares with it, keeps it on a match, fails (state untouched) on a drift, and takes the
 * new answers after a confirmed re-index. Real dynamic-provider functions against fake engines on 127.0.0.1.
 */
const servers: FakeServer[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));
const v = VerificationSchema.parse({ mode: "local" });
const model = (extra: Record<string, unknown> = {}) =>
  ModelConfigSchema.parse({
    name: "bge-small-zh",
    model: "BAAI/bge-small-zh-v1.5",
    engine: "tei",
    task: "embed",
    replicas: { min: 1, max: 1 },
    slo: { p99LatencyMs: 2000 },
    ...extra,
  });

async function inputs(
  m: ReturnType<typeof model>,
  revector?: (x: number[]) => number[],
): Promise<LocalVerificationInputs> {
  const s = await startFakeServer({ dialect: "tei", servedModel: "bge-small-zh", ...(revector ? { revector } : {}) });
  servers.push(s);
  return {
    targets: [{ ...targetFor(m, s.url), fingerprint: fingerprintTargetFor(m, v) }],
    options: {
      requests: 2,
      concurrency: 1,
      timeoutSeconds: 30,
      requestTimeoutSeconds: 5,
      maxRetries: 0,
      quality: v.quality,
      checkLoadGenerator: false,
    },
    targetsHash: "h",
  };
}

describe("the fingerprint record in the verification resource's state", () => {
  it("create records, update keeps on a match, fails on drift, replaces after a confirmed re-index", async () => {
    const created = await localVerificationProvider.create!(await inputs(model()));
    const recorded = (created.outs as { fingerprints: Record<string, { id: string; key: { dimensions: number } }> })
      .fingerprints["bge-small-zh"]!;
    expect(recorded.id).toMatch(/^fp-[0-9a-f]{12}$/);
    expect(recorded.key.dimensions).toBe(512);

    const same = await localVerificationProvider.update!("id", created.outs, await inputs(model()));
    expect((same.outs as { fingerprints: Record<string, { id: string }> }).fingerprints["bge-small-zh"]!.id).toBe(
      recorded.id,
    );

    const upgraded = model({ engineVersion: "1.9.0" });
    const flip = (x: number[]) => x.map((y, i) => (i % 2 ? y : -y));
    const failure = await localVerificationProvider.update!("id", created.outs, await inputs(upgraded, flip)).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(failure).toContain("bge-small-zh (BAAI/bge-small-zh-v1.5): the vectors drifted");
    expect(failure).toMatch(/What changed: engine version \S+ -> 1\.9\.0\./);
    const confirm = /models\.bge-small-zh\.reindexConfirmed: "(fp-[0-9a-f]{12})"/.exec(failure!)![1]!;

    const reindexed = await localVerificationProvider.update!(
      "id",
      created.outs,
      await inputs(model({ engineVersion: "1.9.0", reindexConfirmed: confirm }), flip),
    );
    const kept = (reindexed.outs as { fingerprints: Record<string, { id: string; key: { engineVersion: string } }> })
      .fingerprints["bge-small-zh"]!;
    expect(kept.id).not.toBe(recorded.id);
    expect(kept.key.engineVersion).toBe("1.9.0");
  }, 60_000);
});
