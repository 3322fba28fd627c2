import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { STACKS } from "./config-helpers";
import { ROOT, plan } from "./run-cli";
import { sharedPlan } from "./shared-plans";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "rs-plan-"));

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe("npm run plan", () => {
  // The run's one render of each stack, shared with alerts-stacks and policy-stacks (test/shared-plans.ts).
  const results = Object.fromEntries(STACKS.map((s) => [s, sharedPlan(s)]));

  it.each(STACKS)("renders stack %s: manifests, resources.json and plan.md, summary on stdout", async (stack) => {
    const { out, result: r } = await results[stack]!;
    expect(r.stderr + r.stdout).not.toMatch(/plan failed/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`# Plan: stack \`${stack}\``);
    expect(r.stdout).toContain("## Models");
    const planMd = fs.readFileSync(path.join(out, "plan.md"), "utf8");
    expect(r.stdout).toContain(planMd.trim().split("\n")[0]!);

    const manifests = walk(path.join(out, "manifests")).filter((f) => !f.includes(`${path.sep}helm${path.sep}`));
    expect(manifests.length).toBeGreaterThan(0);
    for (const f of manifests) {
      const obj = YAML.parse(fs.readFileSync(f, "utf8"));
      expect(obj.apiVersion, f).toBeTruthy();
      expect(obj.kind, f).toBeTruthy();
      expect(obj.metadata?.name, f).toBeTruthy();
    }
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as {
      type: string;
      name: string;
      inputs: unknown;
    }[];
    expect(resources.length).toBeGreaterThan(manifests.length);
    for (const r of resources) expect(r.type).toBeTruthy();
  });

  it("never writes a secret: every offline placeholder is redacted", async () => {
    for (const stack of STACKS) {
      const { out, result } = await results[stack]!;
      expect(result.code).toBe(0);
      for (const f of walk(out)) expect(fs.readFileSync(f, "utf8"), f).not.toMatch(/offline-placeholder/);
    }
  });

  it("every Helm release is pinned to an exact version and atomic (a failed install or upgrade rolls back)", async () => {
    for (const stack of STACKS) {
      const { out, result } = await results[stack]!;
      expect(result.code).toBe(0);
      const releases = (
        JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as {
          type: string;
          name: string;
          inputs: Record<string, unknown>;
        }[]
      ).filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
      expect(releases.length, stack).toBeGreaterThan(0);
      for (const r of releases) {
        expect(r.inputs.version, `${stack} ${r.name}`).toMatch(/^v?\d+\.\d+\.\d+(-[\w.]+)?$/);
        expect(r.inputs.atomic, `${stack} ${r.name}`).toBe(true);
      }
    }
  });

  it("the local stack creates no AWS resources", async () => {
    const { out, result } = await results.local!;
    expect(result.code).toBe(0);
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as { type: string }[];
    expect(resources.filter((r) => /^(aws|awsx|eks):/.test(r.type))).toEqual([]);
  });

  it("an invalid stack file exits non-zero, names each bad field and writes nothing", async () => {
    const dir = tmp();
    const file = path.join(dir, "Pulumi.broken.yaml");
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.local.yaml"), "utf8"));
    doc.config["retrieval-stack:models"][0].engine = "triton";
    doc.config["retrieval-stack:models"][1].replicas = { min: 3, max: 1 };
    doc.config["retrieval-stack:observability"].retention = "two days";
    fs.writeFileSync(file, YAML.stringify(doc));
    const out = path.join(dir, "out");
    const r = await plan(["--config-file", file, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("3 problems, nothing was created");
    expect(r.stderr).toContain('retrieval-stack:models[0].engine = "triton"');
    expect(r.stderr).toContain("retrieval-stack:models[1].replicas.min = 3");
    expect(r.stderr).toContain('retrieval-stack:observability.retention = "two days"');
    expect(fs.existsSync(out)).toBe(false);
  });

  it("an unknown stack is a usage error that lists the stacks", async () => {
    const r = await plan(["--stack", "qa"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      'plan: no stack "qa" (no stacks/Pulumi.qa.yaml); stacks: dev, local, prod, staging',
    );
  });
});
