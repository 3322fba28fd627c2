// Warnings a reviewer must see before `pulumi up` reach both plan.md and stderr: a Kubernetes version out of (or
// close to the end of) EKS standard support, and GPU node groups too small for their models' maximum replicas.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { ROOT, plan } from "./run-cli";
import { parseStack } from "./config-helpers";
import { gpuCapacityWarnings, planWarnings } from "../plan/warnings";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("plan warnings on stderr and in plan.md", () => {
  it("a dev stack on Kubernetes 1.34 with a GPU group too small for its models warns in both places", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-plan-warnings-"));
    dirs.push(dir);
    const file = path.join(dir, "Pulumi.dev.yaml");
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8"));
    doc.config["retrieval-stack:cluster"].kubernetesVersion = "1.34";
    const models = doc.config["retrieval-stack:models"] as { name: string; replicas: { max: number } }[];
    models[0]!.replicas.max = 3;
    fs.writeFileSync(file, YAML.stringify(doc));
    const r = await plan(["--config-file", file, "--out", path.join(dir, "out"), "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^warning: Kubernetes 1\.34 left EKS standard support on 2026-12-02 .* Fix: set cluster\.kubernetesVersion to "1\.35"/m,
    );
    expect(r.stderr).toMatch(/^warning: GPU node group l4: .* the last replicas stay Pending\. Fix: raise/m);
    const md = fs.readFileSync(path.join(dir, "out", "plan.md"), "utf8");
    const top = md.slice(0, md.indexOf("\n## "));
    expect(top).toContain("> **Warning:** Kubernetes 1.34 left EKS standard support");
    expect(top).toMatch(/> \*\*Warning:\*\* GPU node group l4: .* stay Pending/);
  });

  it("the shipped stacks plan without these warnings on the day of the review", () => {
    const day = new Date("2026-12-07T00:00:00Z");
    for (const stack of ["local", "dev", "staging", "prod"]) {
      const config = parseStack(stack);
      expect(gpuCapacityWarnings(config), stack).toEqual([]);
      expect(
        planWarnings(config, day).filter((w) => /Kubernetes|Pending/.test(w)),
        stack,
      ).toEqual([]);
    }
  });
});
