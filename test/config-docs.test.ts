// The generated reference, JSON Schema and model catalogue (scripts/gen-config-docs.ts) are current, and the schema
// really describes our stack files: all four validate with a JSON Schema validator (ajv), and typical mistakes fail.
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { z } from "zod";
import { PLATFORM_SECTIONS } from "../components/config";
import { MODEL_CATALOGUE } from "../components/serving/models";
import { generatedFiles } from "../scripts/gen-config-docs";
import { STACKS, stackFile } from "./config-helpers";

const ROOT = path.join(__dirname, "..");

describe("generated config docs are current", () => {
  it("docs/stack-config.schema.json, docs/config-reference.md and docs/models.md match npm run docs:config", async () => {
    for (const [file, text] of Object.entries(await generatedFiles()))
      expect(fs.readFileSync(path.join(ROOT, file), "utf8"), `${file} is stale: run npm run docs:config`).toBe(text);
  });

  it("the reference has a section per config section and a row per key, with descriptions from the schema", () => {
    const md = fs.readFileSync(path.join(ROOT, "docs", "config-reference.md"), "utf8");
    for (const section of Object.keys(PLATFORM_SECTIONS).filter((s) => s !== "secrets"))
      expect(md).toContain(`## retrieval-stack:${section}\n`);
    expect(md).toContain("## retrieval-stack:apiKeys\n");
    expect(md).toMatch(
      /\| `\[\]\.gpu\.memoryFraction` \| number \(0\.1\.\.0\.95\) \| `0\.9` \| Fraction of GPU memory/,
    );
    expect(md).toMatch(/\| `<name>\.diskSizeGiB` \| integer \(50\.\.16384\) \| `200` \|/);
  });

  it("every key of the reference has a description", () => {
    const md = fs.readFileSync(path.join(ROOT, "docs", "config-reference.md"), "utf8");
    // Key rows: | `key` | type | default | description | (a \| inside a cell is escaped).
    const rows = md.split("\n").filter((l) => l.startsWith("| `"));
    expect(rows.length).toBeGreaterThan(100);
    const undescribed = rows
      .map((l) =>
        l
          .slice(1, -1)
          .split(/(?<!\\)\|/)
          .map((c) => c.trim()),
      )
      .filter((cells) => cells.length >= 4 && cells[3]!.replace(/\*\*Required\.\*\*/, "").trim() === "")
      .map((cells) => cells[0]);
    expect(undescribed).toEqual([]);
  });

  it("the model catalogue lists every model with its task, dims, max tokens and engines", () => {
    const md = fs.readFileSync(path.join(ROOT, "docs", "models.md"), "utf8");
    for (const [id, spec] of Object.entries(MODEL_CATALOGUE))
      expect(md).toMatch(
        new RegExp(`\\| \`${id.replace(/[.]/g, "\\.")}\` \\| ${spec.task} \\| [^|]*\\| ${spec.maxTokens} \\|`),
      );
    // TEI cannot serve the decoder reranker; vLLM can (the adapters say so, not this test's memory).
    const qwen = md.split("\n").find((l) => l.includes("`Qwen/Qwen3-Reranker-4B`"))!;
    expect(qwen.split("|")[8]).toContain("vllm");
    expect(qwen.split("|")[8]).not.toContain("tei");
  });
});

describe("schema descriptions live in the zod schema, not only in JSDoc", () => {
  type Node = {
    description?: string;
    properties?: Record<string, Node>;
    items?: Node;
    additionalProperties?: Node | boolean;
    oneOf?: Node[];
    anyOf?: Node[];
  };
  /** Every property path of a JSON Schema whose schema carries no description. */
  const undescribed = (node: Node, at: string, out: string[] = []): string[] => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const variants = [child, ...(child.anyOf ?? []), ...(child.oneOf ?? [])];
      if (!variants.some((v) => v.description)) out.push(`${at}.${key}`);
      undescribed(child, `${at}.${key}`, out);
    }
    for (const v of [...(node.oneOf ?? []), ...(node.anyOf ?? [])]) undescribed(v, at, out);
    if (node.items) undescribed(node.items, `${at}[]`, out);
    if (node.additionalProperties && typeof node.additionalProperties === "object")
      undescribed(node.additionalProperties, `${at}.<name>`, out);
    return out;
  };

  it.each(["cluster", "gpuNodeGroups", "observability"] as const)(
    "every key of %s has .meta({ description })",
    (section) => {
      const json = z.toJSONSchema(PLATFORM_SECTIONS[section], { io: "input", unrepresentable: "any" }) as Node;
      expect(undescribed(json, section)).toEqual([]);
    },
  );
});

describe("the JSON Schema validates our stack files (ajv)", () => {
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "docs", "stack-config.schema.json"), "utf8"));
  const validate = new Ajv2020({ allErrors: true, strict: true, validateFormats: false }).compile(schema);
  const load = (stack: string) => YAML.parse(fs.readFileSync(stackFile(stack), "utf8"));
  const errors = () => (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join("\n");

  it.each(STACKS)("stacks/Pulumi.%s.yaml validates and names the schema on its first line", (stack) => {
    expect(fs.readFileSync(stackFile(stack), "utf8").split("\n")[0]).toBe(
      "# yaml-language-server: $schema=../docs/stack-config.schema.json",
    );
    expect(validate(load(stack)), errors()).toBe(true);
  });

  it.each([
    ["an unknown engine", (c: any) => (c["retrieval-stack:models"][0].engine = "triton"), "/engine"],
    ["a misspelt model key", (c: any) => (c["retrieval-stack:models"][0].replica = 1), "additional properties"],
    ["a section key without namespace", (c: any) => (c.models = []), "additional properties"],
    ["an unknown section", (c: any) => (c["retrieval-stack:modles"] = []), "additional properties"],
    ["a plain-text secret", (c: any) => (c["retrieval-stack:apiKeys"] = ["k".repeat(20)]), "apiKeys"],
    ["a string where a number goes", (c: any) => (c["retrieval-stack:models"][0].replicas.max = "3"), "/max"],
  ])("refuses %s", (_name, mutate, says) => {
    const doc = load("prod");
    mutate(doc.config);
    expect(validate(doc)).toBe(false);
    expect(errors()).toContain(says);
  });

  it("accepts other namespaces (aws:region, pulumi:tags) and encrypted secrets", () => {
    const doc = load("prod");
    doc.config["pulumi:tags"] = { team: "search" };
    doc.config["retrieval-stack:apiKeys"] = { secure: "v1:abc" };
    expect(validate(doc), errors()).toBe(true);
  });
});
