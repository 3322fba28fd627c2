import { describe, expect, it } from "vitest";
import { parseStack, problemsOf, STACKS } from "./config-helpers";
import { gatewayReplicas, playgroundEnabled, profileOf, redisModeOf } from "../components/config";
import { gatewayDrainSeconds } from "../components/config/gateway";
import { gatewayRuntimeConfig } from "../components/gateway/runtime-config-from-stack";

/** The gateway section and its cross-field rules, on the real stack files (components/validation/rules/gateway.ts). */
const withGateway = (gateway: unknown, extra?: (raw: any) => void) => (raw: any) => {
  raw.gateway = gateway;
  extra?.(raw);
};
const addReranker = (raw: any) =>
  raw.models.push({ ...raw.models.find((m: any) => m.task === "rerank"), name: "bge-reranker-v2" });
const addEmbedder = (raw: any, name: string, model: string) =>
  raw.models.push({ ...raw.models.find((m: any) => m.task === "embed"), name, model });

describe("gateway config", () => {
  it("every stack parses with the gateway on; playground and replicas default per environment", () => {
    for (const s of STACKS) {
      const c = parseStack(s);
      expect(c.gateway.enabled).toBe(true);
      expect(playgroundEnabled(c.gateway, c.environment)).toBe(s === "local" || s === "dev");
      const replicas = gatewayReplicas(c.gateway, profileOf(c.environment).minReplicasFloor);
      expect(replicas).toBe(s === "staging" || s === "prod" ? 2 : 1);
      // A gateway that may scale past one replica (maxReplicas) never keeps limits in memory alone.
      expect(redisModeOf(c.gateway, replicas)).toBe(c.gateway.maxReplicas > 1 ? "deploy" : "memory");
      expect(redisModeOf({ ...c.gateway, maxReplicas: 1 }, 1)).toBe("memory");
    }
  });

  it("a rerank alias may split by weight (canary)", () => {
    const c = parseStack(
      "local",
      withGateway(
        {
          aliases: {
            reranker: {
              targets: [
                { model: "bge-reranker-base", weight: 90 },
                { model: "bge-reranker-v2", weight: 10 },
              ],
            },
          },
        },
        addReranker,
      ),
    );
    expect(c.gateway.aliases.reranker!.targets.map((t) => t.weight)).toEqual([90, 10]);
  });

  it("an embedding alias may not split by weight", () => {
    const p = problemsOf(
      "local",
      withGateway(
        { aliases: { embedder: { targets: [{ model: "bge-small-zh" }, { model: "bge-small-v2" }], dimensions: 512 } } },
        (raw) => addEmbedder(raw, "bge-small-v2", "BAAI/bge-small-zh-v1.5"),
      ),
    );
    expect(p).toHaveLength(1);
    expect(p[0]!.path).toBe("retrieval-stack:gateway.aliases.embedder.targets");
    expect(p[0]!.message).toMatch(/cannot share one index.*Fix: list one target/);
  });

  it("an embedding switch that changes dimensions is refused until dimensions confirms it", () => {
    const switched = (dimensions: number) =>
      withGateway({ aliases: { embedder: { targets: [{ model: "bge-base" }], dimensions } } }, (raw) =>
        addEmbedder(raw, "bge-base", "BAAI/bge-base-zh-v1.5"),
      );
    const p = problemsOf("local", switched(512));
    expect(p[0]!.path).toBe("retrieval-stack:gateway.aliases.embedder.dimensions");
    expect(p[0]!.message).toMatch(/768 dims.*break every index.*setting dimensions to 768/);
    expect(parseStack("local", switched(768)).gateway.aliases.embedder!.dimensions).toBe(768);
  });

  it("names the YAML path and a fix for unknown targets, mixed tasks, dialects, caches and Redis", () => {
    const p = problemsOf(
      "local",
      withGateway({
        aliases: {
          a: { targets: [{ model: "nope" }] },
          b: { targets: [{ model: "bge-small-zh" }, { model: "bge-reranker-base" }] },
          "bge-small-zh": { targets: [{ model: "bge-small-zh" }] },
        },
        dialects: { "bge-small-zh": "kserve-v9", "bge-reranker-base": "kserve-v2" },
        rerankCache: { "bge-small-zh": {} },
        redis: { mode: "external" },
      }),
    );
    const byPath = Object.fromEntries(p.map((x) => [x.path, x.message]));
    expect(byPath["retrieval-stack:gateway.aliases.a.targets[0].model"]).toMatch(/not a model of this stack/);
    expect(byPath["retrieval-stack:gateway.aliases.b.targets"]).toMatch(/mixes embed and rerank/);
    expect(byPath["retrieval-stack:gateway.aliases.bge-small-zh"]).toMatch(/also a model's name/);
    expect(byPath["retrieval-stack:gateway.dialects.bge-small-zh"]).toMatch(/not a known dialect.*"tei"/);
    expect(byPath["retrieval-stack:gateway.dialects.bge-reranker-base"]).toMatch(/no rerank endpoint/);
    expect(byPath["retrieval-stack:gateway.rerankCache.bge-small-zh"]).toMatch(/only rerank answers are cached/);
    expect(byPath["retrieval-stack:gateway.redis.url"]).toMatch(/required with redis.mode "external"/);
    for (const m of Object.values(byPath)) expect(m).toMatch(/Fix:/);
  });

  it("memory limits with several replicas are refused; key hashes must be SHA-256 hex", () => {
    const p = problemsOf("local", withGateway({ replicas: 3, redis: { mode: "memory" } }));
    expect(p.map((x) => x.path)).toEqual(["retrieval-stack:gateway.redis.mode"]);
    expect(p[0]!.message).toMatch(/may run 6 replicas .* each key through 6 times its limit/);
    // maxReplicas counts too: one replica that the HPA may scale to 4 is refused as well.
    const q = problemsOf("local", withGateway({ replicas: 1, maxReplicas: 4, redis: { mode: "memory" } }));
    expect(q.map((x) => x.path)).toEqual(["retrieval-stack:gateway.redis.mode"]);
    expect(() =>
      parseStack("local", withGateway({ replicas: 1, maxReplicas: 1, redis: { mode: "memory" } })),
    ).not.toThrow();
    const h = problemsOf("local", withGateway({ keys: { ci: { sha256: ["abc"] } } }));
    expect(h.map((x) => x.path)).toEqual(["retrieval-stack:gateway.keys.ci.sha256[0]"]);
    expect(h[0]!.message).toMatch(/sha256sum/);
  });

  it("one drain time for the server and the pod: drainTimeoutMs covers every attempt of the longest call", () => {
    const c = parseStack("prod");
    const g = c.gateway;
    expect(gatewayDrainSeconds(g)).toBeGreaterThanOrEqual(g.upstreamTimeoutSeconds * g.attempts);
    const runtime = gatewayRuntimeConfig(c, "models", { playground: false });
    expect(runtime.drainTimeoutMs).toBe(gatewayDrainSeconds(g) * 1000);
    expect(gatewayDrainSeconds({ ...g, drainSeconds: 42 })).toBe(42);
  });

  it("a key's model scope names models or aliases of the stack; a drain shorter than one call is refused", () => {
    const local = parseStack("local");
    const model = local.models[0]!.name;
    const scoped = (models: string[]) => withGateway({ keys: { "team-a": { sha256: ["a".repeat(64)], models } } });
    expect(() => parseStack("local", scoped([model]))).not.toThrow();
    const typo = problemsOf("local", scoped([model, "bge-rerankr"]));
    expect(typo.map((x) => x.path)).toEqual(["retrieval-stack:gateway.keys.team-a.models[1]"]);
    expect(typo[0]!.message).toMatch(/neither a model nor an alias of this stack.*Fix: use one of/);
    const g = local.gateway;
    const longest = Math.ceil(g.upstreamTimeoutSeconds * g.attempts);
    const short = problemsOf("local", withGateway({ drainSeconds: longest - 1 }));
    expect(short.map((x) => x.path)).toEqual(["retrieval-stack:gateway.drainSeconds"]);
    expect(short[0]!.message).toMatch(new RegExp(`at least ${longest}`));
    expect(() => parseStack("local", withGateway({ drainSeconds: longest }))).not.toThrow();
  });

  it("key names the gateway uses itself are refused, naming the field", () => {
    const problems = problemsOf("local", withGateway({ keys: { anonymous: { sha256: ["a".repeat(64)] } } }));
    expect(JSON.stringify(problems)).toMatch(/gateway\.keys\.anonymous.*not a valid name/);
  });
});

describe("alias fallback", () => {
  it("must name a model of the same task (embeddings: the same dims)", () => {
    const rr = (raw: any) => raw.models.find((m: any) => m.task === "rerank").name;
    const emb = (raw: any) => raw.models.find((m: any) => m.task === "embed").name;
    const p = problemsOf("local", (raw: any) => {
      raw.gateway = { aliases: { search: { targets: [{ model: rr(raw) }], fallback: emb(raw) } } };
    });
    expect(p.map((x) => x.path)).toEqual(["retrieval-stack:gateway.aliases.search.fallback"]);
    expect(p[0]!.message).toMatch(/alias serves rerank. Fix: name a rerank model/);
    expect(() =>
      parseStack("local", (raw: any) => {
        addReranker(raw);
        raw.gateway = { aliases: { search: { targets: [{ model: rr(raw) }], fallback: "bge-reranker-v2" } } };
      }),
    ).not.toThrow();
  });
});
