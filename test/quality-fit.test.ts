import { afterAll, describe, expect, it } from "vitest";
import { verifyTarget } from "../images/verifier/src/verify";
import { bundledSet } from "../images/canary/src/quality";
import { runTarget } from "../images/canary/src/run";
import { Registry } from "../images/canary/src/metrics";
import { CanaryTargetSchema } from "../components/contracts/canary";
import type { VerifyOptions, VerifyTargetInput } from "../components/contracts/verify-target";
import { parseLabelledSet } from "../components/quality/labelled-set";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";

/**
 * Quality checks that fit the model (#23), over real sockets: the post-deploy check and the canary judge a model
 * on the labelled queries in its languages, or on its own set, and say which.
 */
const servers: FakeServer[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));
const OPTIONS: VerifyOptions = {
  requests: 2,
  concurrency: 1,
  timeoutSeconds: 60,
  requestTimeoutSeconds: 5,
  maxRetries: 0,
  quality: { enabled: true, minMrrAt10: 0.75 },
  checkLoadGenerator: false,
};

async function embedTarget(extra: Partial<VerifyTargetInput>): Promise<VerifyTargetInput> {
  const s = await startFakeServer({ dialect: "tei", servedModel: "m", dims: 768 });
  servers.push(s);
  return { name: "gte", url: s.url, dialect: "tei", task: "embed", servedModel: "m", dims: 768, ...extra };
}
const qualityRow = async (t: VerifyTargetInput) =>
  (await verifyTarget(t, OPTIONS)).checks.find((c) => c.check === "quality.mrr@10")!;

const OWN = parseLabelledSet(
  [
    {
      query: "reset my password",
      candidates: [
        { id: "a", text: "To reset your password open settings" },
        { id: "b", text: "Bananas are yellow" },
      ],
      relevant: ["a"],
    },
    {
      query: "opening hours of the shop",
      candidates: [
        { id: "c", text: "The weather is nice" },
        { id: "d", text: "The shop opening hours are nine to five" },
      ],
      relevant: ["d"],
    },
  ]
    .map((x) => JSON.stringify(x))
    .join("\n"),
);

describe("the post-deploy quality check fits the model", () => {
  it("an English-only model is judged on the English queries only, and the report says so", async () => {
    const row = await qualityRow(await embedTarget({ languages: ["en"] }));
    expect(row.expected).toBe("MRR@10 ≥ 0.75 over 16 labelled queries in en (20 zh skipped: the model is en only)");
    expect(row.got).toMatch(/^\d\.\d{3} \(en \d\.\d{3}\)/);
  });

  it("a multilingual model gets the whole set; a French model is skipped with the fix", async () => {
    expect((await qualityRow(await embedTarget({ languages: ["multilingual"] }))).expected).toBe(
      "MRR@10 ≥ 0.75 over 36 labelled queries (20 zh, 16 en)",
    );
    const fr = await qualityRow(await embedTarget({ languages: ["fr"] }));
    expect(fr.status).toBe("skip");
    expect(fr.got).toContain(
      "no queries in the model's languages (fr); give the model its own set (models[].quality.labelledSet)",
    );
  });

  it("a model's own labelled set and threshold replace the bundled ones", async () => {
    const row = await qualityRow(await embedTarget({ labelledSet: OWN, minMrrAt10: 0.9 }));
    expect(row.expected).toBe("MRR@10 ≥ 0.9 over the model's own labelled set (2 queries)");
    expect(row).toMatchObject({ status: "pass", got: "1.000" });
  });
});

describe("the canary fits the model", () => {
  it("its bundled set is the part in the model's languages", () => {
    expect(bundledSet("embed", ["en"]).queries).toHaveLength(16);
    expect(bundledSet("embed", ["en"]).queries[0]!.candidates.every((c) => !/[\u4e00-\u9fff]/.test(c.text))).toBe(true);
    expect(bundledSet("rerank", ["zh"]).queries).toHaveLength(20);
    expect(bundledSet("embed", ["fr"]).queries).toHaveLength(0);
    expect(bundledSet("embed").queries).toHaveLength(36);
  });

  it("a model with its own set is scored on it; a French model's bundled quality is not scored", async () => {
    const s = await startFakeServer({ dialect: "tei", servedModel: "m", dims: 768 });
    servers.push(s);
    const registry = new Registry();
    const base = { url: s.url, dialect: "tei", task: "embed", servedModel: "m", dims: 768 } as const;
    const own = CanaryTargetSchema.parse({ ...base, name: "own", languages: ["fr"], labelledSet: OWN });
    expect(await runTarget(own, { requestTimeoutSeconds: 5, maxRetries: 0, intervalSeconds: 60 }, registry)).toEqual({
      health: true,
      sanity: true,
      "quality.user": true,
    });
    expect(registry.get("mrrAt10", { model: "own", set: "user" })).toBe(1);
    expect(registry.get("mrrAt10", { model: "own", set: "bundled" })).toBeUndefined();
  });
});
