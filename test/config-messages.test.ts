// Issue 14, "Errors that teach": every config message names the path, the value and a fix, in words (never raw
// schema text), names models by name, gives the YAML line and column, suggests the right spelling, reports the
// root cause first, never contradicts itself and never suggests what the config already has.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { ConfigError, type ConfigProblem } from "../components/config";
import { parseStackConfig } from "../components/validation";
import { readStackFile } from "../plan/stack-file";
import { errorOf, problemsOf, stackFile } from "./config-helpers";

const at = (problems: readonly ConfigProblem[], p: string) => {
  const found = problems.filter((x) => x.path === p);
  expect(found, `no problem at ${p}; got:\n${problems.map((x) => `${x.path}: ${x.message}`).join("\n")}`).not.toEqual(
    [],
  );
  return found;
};

/** Raw schema wording that a user cannot act on (zod's defaults, "a object"). */
const RAW_SCHEMA_TEXT = /Too small|Too big|expected \w+ to be|Invalid input|Invalid option|a object|a array|received /;

const MISTAKES: readonly [string, string, (r: any) => void][] = [
  ["negative request count", "prod", (r) => (r.verification.requests = -50)],
  ["gpu given as a string", "prod", (r) => (r.models[0].gpu = "l40s")],
  ["receivers as a map", "prod", (r) => (r.observability.receivers = { a: 1 })],
  ["section as null", "prod", (r) => (r.ingress = null)],
  ["model as null", "prod", (r) => (r.models[1] = null)],
  ["boolean as text", "prod", (r) => (r.ingress.enabled = "yes")],
  ["empty instance list", "prod", (r) => (r.gpuNodeGroups.l4.instanceTypes = [])],
  ["text too short", "prod", (r) => (r.cluster.name = "")],
  ["too many retries", "prod", (r) => (r.verification.maxRetries = 99)],
  ["fractional node count", "prod", (r) => (r.gpuNodeGroups.l4.minSize = 1.5)],
  ["unknown enum", "prod", (r) => (r.ingress.exposure = "public")],
  ["unknown tls mode", "prod", (r) => (r.ingress.tls = { mode: "letsencrypt" })],
  ["node group name not a DNS label", "prod", (r) => (r.gpuNodeGroups.L4_GPUs = r.gpuNodeGroups.l4)],
  ["missing required key", "prod", (r) => delete r.models[0].slo],
  ["bad email", "prod", (r) => (r.ingress.tls.email = "platform-at-example")],
  ["bad url", "prod", (r) => (r.ingress.tls.server = "not a url")],
];

describe("every message names the value and a fix, in words", () => {
  it.each(MISTAKES)("%s", (_name, stack, mutate) => {
    const problems = problemsOf(stack, mutate);
    for (const p of problems) {
      expect(p.message, p.path).toMatch(/\. Fix: .+\.$/);
      expect(p.message, p.path).not.toMatch(RAW_SCHEMA_TEXT);
    }
  });

  it("verification.requests = -50 (was: 'Too small: expected number to be >0.')", () => {
    const [p] = at(
      problemsOf("prod", (r) => (r.verification.requests = -50)),
      "retrieval-stack:verification.requests",
    );
    expect(p!.message).toBe("must be greater than 0. Fix: set a value > 0, e.g. 1.");
  });

  it("gpu: l40s (was: 'must be a object. Fix: write it as a object')", () => {
    const [p] = at(
      problemsOf("prod", (r) => (r.models[0].gpu = "l40s")),
      "retrieval-stack:models[0].gpu",
    );
    expect(p!.message).toBe('must be a mapping of keys to values, not text. Fix: write it as { nodeGroup: "l40s" }.');
  });
});

describe("models by name, and the YAML line and column", () => {
  it("names the model next to its position", () => {
    const text = errorOf("prod", (r) => (r.models[2].replicas.min = 1));
    expect(text).toContain('retrieval-stack:models[2].replicas.min = 1 (model "qwen3-reranker")');
  });

  it("gives the stack file's line and column of the key", () => {
    const source = fs.readFileSync(stackFile("prod"), "utf8").replace("engine: vllm", "engine: vlm");
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rs-msg-")), "Pulumi.prod.yaml");
    fs.writeFileSync(file, source);
    const lines = source.split("\n");
    const line = lines.findIndex((l) => l.includes("engine: vlm")) + 1;
    const column = lines[line - 1]!.indexOf("engine") + 1;
    let error: unknown;
    try {
      parseStackConfig({ ...readStackFile(file), fileProblems: [] }, file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(1);
    expect((error as Error).message).toContain(
      `retrieval-stack:models[2].engine = "vlm" (model "qwen3-reranker", ${file}:${line}:${column}): ` +
        'is not one of the accepted values. Fix: did you mean "vllm"?',
    );
  });

  it("locates keys in flow mappings and nested lists too", () => {
    const { locate } = readStackFile(stackFile("prod"));
    const lines = fs.readFileSync(stackFile("prod"), "utf8").split("\n");
    const pos = locate("retrieval-stack:observability.receivers[1].name")!;
    expect(lines[pos.line - 1]!.slice(pos.column - 1)).toMatch(/^name: team-dingtalk/);
    expect(YAML.parse(lines[pos.line - 1]!.trim().slice(2))).toMatchObject({ name: "team-dingtalk" });
  });
});

describe('"did you mean"', () => {
  it.each([
    ["a model key", (r: any) => (r.models[0].replica = 2), "retrieval-stack:models[0].replica", '"replicas"'],
    ["a section key", (r: any) => (r.obervability = {}), "retrieval-stack:obervability", '"observability"'],
    ["an engine", (r: any) => (r.models[0].engine = "sglng"), "retrieval-stack:models[0].engine", '"sglang"'],
    [
      "a catalogue id",
      (r: any) => (r.models[2].model = "Qwen/Qwen3-Reranker-4b"),
      "retrieval-stack:models[2].model",
      '"Qwen/Qwen3-Reranker-4B"',
    ],
    [
      "a node group",
      (r: any) => (r.models[0].gpu.nodeGroup = "l40"),
      "retrieval-stack:models[0].gpu.nodeGroup",
      '"l4"',
    ],
    ["a TLS mode", (r: any) => (r.ingress.tls.mode = "acm"), "retrieval-stack:ingress.tls.mode", '"acme"'],
  ])("%s", (_name, mutate, p, suggestion) => {
    const [problem] = at(problemsOf("prod", mutate), p);
    expect(problem!.message).toContain(`did you mean ${suggestion}?`);
  });
});

describe("the root cause first, no contradiction, fixes that fit", () => {
  it("replicas.min > max is reported alone, before any derived GPU-capacity problem", () => {
    const problems = problemsOf("prod", (r) => (r.models[0].replicas = { min: 8, max: 3 }));
    expect(problems.map((p) => p.path)).toEqual(["retrieval-stack:models[0].replicas.min"]);
    expect(problems[0]!.message).toContain("is above replicas.max (3)");
  });

  it("a plain-text apiKeys is reported once (not also as 'not set'), with the JSON list form", () => {
    const problems = problemsOf("prod", (_r, secret) => secret.delete("apiKeys"));
    const keys = at(problems, "retrieval-stack:apiKeys");
    expect(keys).toHaveLength(1);
    expect(keys[0]!.message).toContain("plain text");
    expect(keys[0]!.message).toContain(`pulumi config set --secret apiKeys '["<key of 16+ chars>", "<another key>"]'`);
  });

  it("missing apiKeys: the fix shows the JSON list form", () => {
    const [p] = at(
      problemsOf("prod", (r) => delete r.apiKeys),
      "retrieval-stack:apiKeys",
    );
    expect(p!.message).toContain(`'["<key of 16+ chars>", "<another key>"]'`);
  });

  it("a model already on g6e (L40S) is not told to use g6e", () => {
    const [p] = at(
      problemsOf("prod", (r) => (r.models[2].gpu.memoryFraction = 0.4)),
      "retrieval-stack:models[2].maxModelLen",
    );
    expect(p!.message).not.toMatch(/g6e/);
    expect(p!.message).toContain("raise gpu.memoryFraction (now 0.4) to 0.9");
  });

  it("a model on L4 is told of a larger GPU from the catalogue", () => {
    const [p] = at(
      problemsOf("prod", (r) => (r.gpuNodeGroups.l40s.instanceTypes = ["g6.xlarge"])),
      "retrieval-stack:models[2].maxModelLen",
    );
    expect(p!.message).toMatch(/a node group with larger GPUs \(e\.g\. g6e\.\w+: L40S, 48 GiB\)/);
  });
});
