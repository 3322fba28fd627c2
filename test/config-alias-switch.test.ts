import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { planWarnings } from "../plan/warnings";
import { parseStack, problemsOf } from "./config-helpers";
import { ROOT, plan } from "./run-cli";

/**
 * An embedding alias switched from the model its callers' indexes hold (`indexedWith`) to another one (#25):
 * refused at plan time when the vectors cannot match (other dimensions, other weights, weights not pinned, the
 * former model gone, nothing that would compare the fingerprints), accepted with a plan warning when both load
 * the same weights (the verification then compares fingerprints: test/fingerprint-alias-switch.test.ts).
 */
const PIN = "7999e1d3359715c523056ef9478215996d62a620";
const OTHER_PIN = "0000000000000000000000000000000000000001";
const ALIAS = "retrieval-stack:gateway.aliases.embedder.indexedWith";

/**
 * The local stack with a second embedding model `bge-small-zh-b` (models[2]; like bge-small-zh with `b`'s fields)
 * and an alias `embedder` that points at it while indexedWith names bge-small-zh (models[0], with `a`'s fields).
 */
const switched =
  (a: Record<string, unknown>, b: Record<string, unknown>, alias: Record<string, unknown> = {}) =>
  (raw: any) => {
    raw.models[0] = { ...raw.models[0], ...a };
    raw.models.push({ ...raw.models[0], name: "bge-small-zh-b", revision: undefined, ...b });
    if (raw.models[2].revision === undefined) delete raw.models[2].revision;
    if (raw.models[0].revision === undefined) delete raw.models[0].revision;
    raw.gateway = {
      ...(raw.gateway ?? {}),
      enabled: true,
      aliases: {
        embedder: {
          targets: [{ model: "bge-small-zh-b" }],
          dimensions: 512,
          indexedWith: "bge-small-zh",
          ...alias,
        },
      },
    };
  };

const refusal = (mutate: (raw: any) => void) => {
  const p = problemsOf("local", mutate).filter((x) => x.path === ALIAS);
  expect(p).toHaveLength(1);
  const m = p[0]!.message;
  expect(m).toContain(
    "says the callers' indexes hold bge-small-zh's vectors, but the alias now points at bge-small-zh-b",
  );
  expect(m).toContain(
    "Fix: point the alias back at bge-small-zh, or, after re-indexing with bge-small-zh-b, confirm the switch by setting indexedWith: bge-small-zh-b.",
  );
  return m;
};

describe("an embedding alias switch the vectors of which cannot match is refused at plan time", () => {
  it("other dimensions", () => {
    const m = refusal(switched({ revision: PIN }, { model: "BAAI/bge-base-zh-v1.5", revision: PIN }));
    expect(m).toContain(
      "bge-small-zh-b serves 768-dim vectors and bge-small-zh 512-dim ones: vectors of other sizes cannot match",
    );
  });

  it("another model id at the same dimensions", () => {
    const spec = {
      task: "embed",
      dims: 512,
      maxTokens: 512,
      parametersB: 0.1,
      architecture: "bert",
      languages: ["zh"],
    };
    const m = refusal(switched({ revision: PIN }, { model: "acme/small-zh-512", revision: PIN, spec }));
    expect(m).toContain(
      "bge-small-zh-b is acme/small-zh-512 and bge-small-zh BAAI/bge-small-zh-v1.5: other weights give other vectors, even at equal dimensions",
    );
  });

  it("another pinned revision", () => {
    const m = refusal(switched({ revision: PIN }, { revision: OTHER_PIN }));
    expect(m).toContain(
      `bge-small-zh-b loads BAAI/bge-small-zh-v1.5 at revision ${OTHER_PIN} and bge-small-zh at ${PIN}`,
    );
  });

  it("either revision unpinned", () => {
    expect(refusal(switched({}, { revision: PIN }))).toContain(
      "both load BAAI/bge-small-zh-v1.5, but models[0].revision is not pinned: a re-pull may load other weights",
    );
    expect(refusal(switched({ revision: PIN }, {}))).toContain("but models[2].revision is not pinned");
    expect(refusal(switched({}, {}))).toContain("but models[0].revision and models[2].revision are not pinned");
  });

  it("the former model is no longer deployed", () => {
    const m = refusal((raw: any) => {
      switched({ revision: PIN }, { revision: PIN })(raw);
      raw.models.splice(0, 1);
    });
    expect(m).toContain(
      "bge-small-zh is not a model of this stack, so nothing shows that bge-small-zh-b serves the same vectors",
    );
  });

  it("nothing would compare the fingerprints: verification off, or fingerprints disabled", () => {
    const off = refusal((raw: any) => {
      switched({ revision: PIN }, { revision: PIN, dtype: "float32" })(raw);
      raw.verification = { ...raw.verification, mode: "off" };
    });
    expect(off).toContain(`both load BAAI/bge-small-zh-v1.5@${PIN}, but verification.mode is off`);
    const disabled = refusal((raw: any) => {
      switched({ revision: PIN }, { revision: PIN, dtype: "float32" })(raw);
      raw.verification = { ...raw.verification, fingerprint: { enabled: false } };
    });
    expect(disabled).toContain("but verification.fingerprint.enabled is false, so nothing would compare");
  });
});

describe("a switch between models loading the same weights is accepted, gated at verification", () => {
  const gated = switched({ revision: PIN }, { revision: PIN, dtype: "float32" });
  const WARNING =
    "gateway.aliases.embedder switches from bge-small-zh (indexedWith) to bge-small-zh-b without a re-index: both load BAAI/bge-small-zh-v1.5@7999e1d3359715c523056ef9478215996d62a620, 512 dims (dtype auto -> float32). The switch is gated on bge-small-zh-b's fingerprint matching bge-small-zh's recorded one at verification";

  it("parses, and the plan warns what the verification will compare", () => {
    const warnings = planWarnings(parseStack("local", gated));
    expect(warnings.filter((w) => w.includes("gateway.aliases.embedder"))).toEqual([expect.stringContaining(WARNING)]);
    // Without a switch (indexedWith names the target) there is nothing to warn about.
    const settled = planWarnings(
      parseStack("local", switched({ revision: PIN }, { revision: PIN }, { indexedWith: "bge-small-zh-b" })),
    );
    expect(settled.join("\n")).not.toContain("gateway.aliases.embedder");
  });

  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  it("`npm run plan` prints the warning on stderr and at the top of plan.md", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-alias-switch-"));
    dirs.push(dir);
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.local.yaml"), "utf8"));
    const raw: any = { models: doc.config["retrieval-stack:models"], gateway: doc.config["retrieval-stack:gateway"] };
    gated(raw);
    doc.config["retrieval-stack:models"] = raw.models;
    doc.config["retrieval-stack:gateway"] = raw.gateway;
    const file = path.join(dir, "Pulumi.local.yaml");
    fs.writeFileSync(file, YAML.stringify(doc));
    const r = await plan(["--config-file", file, "--out", path.join(dir, "out"), "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: ${WARNING}`);
    const md = fs.readFileSync(path.join(dir, "out", "plan.md"), "utf8");
    expect(md.slice(0, md.indexOf("\n## "))).toContain(`> **Warning:** ${WARNING}`);
    // The verification section says what will be compared.
    expect(md).toContain(
      "- Alias switch `embedder`: bge-small-zh -> bge-small-zh-b without a re-index (same weights: BAAI/bge-small-zh-v1.5@7999e1d3359715c523056ef9478215996d62a620, 512 dims). bge-small-zh-b's answers are compared with bge-small-zh's recorded fingerprint",
    );
  }, 120_000);
});
