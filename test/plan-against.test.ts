// `npm run plan -- --against <dir|git ref>` on real plans: the shipped prod stack against a changed copy of it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { ROOT, plan, run } from "./run-cli";
import { sharedPlan } from "./shared-plans";

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "rs-plan-against-test-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("plan --against a previous plan directory", () => {
  it("lists added, removed and changed objects, GPUs and cost before -> after, alerts and URLs", async () => {
    const before = await sharedPlan("prod");
    expect(before.result.code, before.result.stderr).toBe(0);
    // The same stack (same name, so the same URNs) with one model more, one less GPU group node, a bigger reranker.
    const dir = tmp();
    const file = path.join(dir, "Pulumi.prod.yaml");
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.prod.yaml"), "utf8"));
    const models = doc.config["retrieval-stack:models"];
    models.find((m: { name: string }) => m.name === "qwen3-reranker").replicas.max = 5;
    models.splice(
      models.findIndex((m: { name: string }) => m.name === "gte-base"),
      1,
    );
    models.push({
      name: "bge-reranker",
      model: "BAAI/bge-reranker-v2-m3",
      engine: "vllm",
      task: "rerank",
      replicas: { min: 2, max: 3 },
      gpu: { nodeGroup: "l4" },
      slo: { p99LatencyMs: 1000 },
    });
    doc.config["retrieval-stack:gpuNodeGroups"].l40s.maxSize = 5;
    fs.writeFileSync(file, YAML.stringify(doc));
    const out = path.join(dir, "out");
    const r = await plan(["--config-file", file, "--out", out, "--against", before.out, "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("diff.md");

    const diff = fs.readFileSync(path.join(out, "diff.md"), "utf8");
    const md = fs.readFileSync(path.join(out, "plan.md"), "utf8");
    expect(md).toContain(diff.trim()); // the same section, in plan.md after the overview
    expect(md.indexOf("## What changes against")).toBeLessThan(md.indexOf("## Diagram"));

    expect(diff).toMatch(/- Resources: \*\*\d+ added, \d+ removed, \d+ changed\*\*/);
    expect(diff).toMatch(/^- `retrieval-stack:serving:ModelService` `bge-reranker`$/m); // added
    expect(diff).toMatch(/^- `retrieval-stack:serving:ModelService` `gte-base`$/m); // removed
    // Changed, with the field: the reranker's KEDA maximum.
    expect(diff).toMatch(
      /\| `kubernetes:keda\.sh\/v1alpha1:ScaledObject` `qwen3-reranker[^`]*` \| `inputs\.spec\.maxReplicaCount` \| 6 \| 5 \|/,
    );
    expect(diff).toMatch(/- GPUs \(min–max\): 8–15 -> 8–14/);
    expect(diff).toMatch(/- Compute per month \(min–max\): \$[\d,]+–\$[\d,]+ -> \$[\d,]+–\$[\d,]+/);
    expect(diff).toMatch(/Alerts added:\n(- `\w+ \([\w-]+\)`\n)*- `ModelServiceDown \(bge-reranker\)`/);
    expect(diff).toMatch(/Alerts removed:\n(- `\w+ \([\w-]+\)`\n)*- `ModelServiceDown \(gte-base\)`/);
    expect(diff).toMatch(/Public URLs added:\n- https:\/\/retrieval\.example\.com\/models\/bge-reranker\/v1\/rerank/);
    expect(diff).toMatch(/Public URLs removed:\n- https:\/\/retrieval\.example\.com\/models\/gte-base\/v1\/embeddings/);
    expect(diff).not.toMatch(/offline-placeholder/);

    const json = JSON.parse(fs.readFileSync(path.join(out, "diff.json"), "utf8"));
    expect(json.usdPerMonth.after.max).toBeLessThan(json.usdPerMonth.before.max);
  });

  it("against itself: nothing changes", async () => {
    const before = await sharedPlan("local");
    const out = path.join(tmp(), "out");
    const r = await plan(["--stack", "local", "--out", out, "--against", before.out, "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, "diff.md"), "utf8")).toContain("_No resource, alert or public URL changes._");
  });

  it("neither a directory nor a git ref: one line, exit 1", async () => {
    const r = await plan(["--stack", "local", "--out", path.join(tmp(), "out"), "--against", "no-such-ref-xyz"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      "plan --against no-such-ref-xyz: no-such-ref-xyz is neither a plan directory nor a git ref (branch, tag, SHA)",
    );
  });
});

describe("plan --against a git ref", () => {
  it("renders the ref in a temporary worktree, compares, and removes the worktree", async () => {
    // Only the paths: other worktrees of the repository may move their HEAD meanwhile.
    const worktrees = async () =>
      (await run("git", ["worktree", "list", "--porcelain"])).stdout
        .split("\n")
        .filter((l) => l.startsWith("worktree "));
    const beforeList = await worktrees();
    const out = path.join(tmp(), "out");
    const r = await plan(["--stack", "local", "--out", out, "--against", "HEAD", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    const diff = fs.readFileSync(path.join(out, "diff.md"), "utf8");
    expect(diff).toMatch(/^## What changes against `HEAD`/);
    expect(diff).toMatch(/- Resources: \*\*\d+ added, \d+ removed, \d+ changed\*\*/);
    expect(await worktrees()).toEqual(beforeList);
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("rs-plan-against-") && !f.includes("test"))).toEqual(
      [],
    );
  });
});
