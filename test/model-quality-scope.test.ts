import { describe, expect, it } from "vitest";
import { planWarnings } from "../plan/warnings";
import { noMatchWarning, qualityLanguages, scopeText } from "../components/quality/languages";
import { MODEL_CATALOGUE } from "../components/serving/models";
import { parseStack, problemsOf } from "./config-helpers";

/** Quality checks that fit the model (#23): languages per model, the matching part of the set, plan warnings. */
describe("the labelled set a model is judged on", () => {
  it("every catalogue model states its languages", () => {
    for (const [id, spec] of Object.entries(MODEL_CATALOGUE)) expect(spec.languages, id).toBeDefined();
    expect(MODEL_CATALOGUE["thenlper/gte-base"]!.languages).toEqual(["en"]);
    expect(MODEL_CATALOGUE["BAAI/bge-large-zh-v1.5"]!.languages).toEqual(["zh"]);
  });

  it("an English model gets the English queries, a multilingual one all, a French one none", () => {
    expect(qualityLanguages(["en"])).toEqual(["en"]);
    expect(qualityLanguages(["multilingual"])).toEqual(["zh", "en"]);
    expect(qualityLanguages(undefined)).toEqual(["zh", "en"]);
    expect(qualityLanguages(["fr"])).toEqual([]);
    const queries = [{ query: "北京天气" }, { query: "明天下雨吗" }, { query: "London weather" }];
    expect(scopeText(queries, ["en"], ["en"])).toBe("1 labelled queries in en (2 zh skipped: the model is en only)");
    expect(scopeText(queries, ["zh", "en"])).toBe("3 labelled queries (2 zh, 1 en)");
  });

  it("a model the bundled set cannot judge gets a plan warning, unless it brings its own set", () => {
    const french = (quality?: unknown) => (raw: any) => {
      raw.models[0] = {
        ...raw.models[0],
        model: "acme/camembert-embed",
        spec: { task: "embed", dims: 512, maxTokens: 512, parametersB: 0.1, architecture: "bert", languages: ["fr"] },
        ...(quality ? { quality } : {}),
      };
    };
    const warnings = planWarnings(parseStack("local", french()));
    expect(warnings.join("\n")).toContain(
      "bge-small-zh is a fr model and the bundled labelled set holds only zh and en queries",
    );
    expect(warnings.join("\n")).toContain("models[].quality.labelledSet");
    expect(planWarnings(parseStack("local", french({ labelledSet: "quality/fr.jsonl" }))).join("\n")).not.toContain(
      "is a fr model",
    );
    expect(noMatchWarning("gte", ["en"])).toBeUndefined();
    expect(planWarnings(parseStack("local")).join("\n")).not.toContain("labelled set");
  });

  it("a language that is not an ISO code is refused with the field and the fix", () => {
    const p = problemsOf("local", (raw: any) => {
      raw.models[0].spec = {
        task: "embed",
        dims: 512,
        maxTokens: 512,
        parametersB: 0.1,
        architecture: "bert",
        languages: ["French"],
      };
    });
    expect(p[0]!.path).toContain("models[0].spec.languages[0]");
    expect(p[0]!.message).toContain('is not a language code. Fix: write an ISO 639-1 code such as "en"');
  });

  it("the promotion override is loud in the plan", () => {
    const w = planWarnings(
      parseStack("local", (raw: any) => {
        raw.verification = { ...(raw.verification ?? {}), promotion: { override: "INC-4711 reranker v1 crashes" } };
      }),
    );
    expect(w.join("\n")).toContain('verification.promotion.override is set ("INC-4711 reranker v1 crashes")');
  });
});

describe("embedding alias switches and shadows in config", () => {
  const gateway = (aliases: unknown) => (raw: any) => {
    raw.gateway = { ...(raw.gateway ?? {}), enabled: true, aliases };
  };
  it("an embedding alias switched to another model is refused until indexedWith names it", () => {
    const p = problemsOf("local", (raw: any) => {
      raw.models.push({ ...raw.models[0], name: "bge-small-v2" });
      gateway({ embedder: { targets: [{ model: "bge-small-v2" }], dimensions: 512, indexedWith: "bge-small-zh" } })(
        raw,
      );
    });
    expect(p.map((x) => x.path)).toEqual(["retrieval-stack:gateway.aliases.embedder.indexedWith"]);
    expect(p[0]!.message).toContain("confirm the switch by setting indexedWith: bge-small-v2");
  });
  it("a shadow must be a rerank model of the stack, on a rerank alias", () => {
    const p = problemsOf(
      "local",
      gateway({
        rr: { targets: [{ model: "bge-reranker-base" }], shadow: { model: "bge-small-zh", sampleRate: 0.1 } },
      }),
    );
    expect(p[0]!.path).toBe("retrieval-stack:gateway.aliases.rr.shadow.model");
    expect(p[0]!.message).toContain("only rerank aliases take a rerank shadow");
  });
});
