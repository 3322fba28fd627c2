// Every stack in stacks/ passes every mandatory policy: the plan of each stack is rendered by the real program
// (as `npm run plan` does, the run's one render per stack: test/shared-plans.ts) and the rules are run over its
// resources.json.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { listStacks } from "../plan/run";
import { runPolicies, formatFinding } from "../plan/policy";
import { contextFromConfig } from "../policy/context";
import { readStackConfig } from "../policy/stack-config";
import type { PolicyResource } from "../policy/rules";
import { ROOT } from "./run-cli";
import { sharedPlan } from "./shared-plans";

const stacks = listStacks();

describe("every stack passes the mandatory policies", () => {
  it("finds the stacks", () => {
    expect(stacks).toEqual(expect.arrayContaining(["local", "dev", "prod"]));
  });

  it.each(stacks)("stack %s", async (stack) => {
    const { out, result: r } = await sharedPlan(stack);
    const policyLines = (r.stderr + r.stdout).split("\n").filter((l) => l.startsWith("policy "));
    // The plan itself gates on the mandatory rules; name them if that is why it failed.
    expect(policyLines, `mandatory policy violations in stack ${stack}`).toEqual([]);
    expect(r.code, `plan of stack ${stack} failed before the policies could be checked:\n${r.stderr}`).toBe(0);

    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as {
      type: string;
      name: string;
      urn: string;
      inputs: Record<string, unknown>;
    }[];
    const report = runPolicies(
      resources.map((x): PolicyResource => ({ type: x.type, name: x.name, urn: x.urn, props: x.inputs ?? {} })),
      contextFromConfig(readStackConfig(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`))),
    );
    expect(report.mandatory.map(formatFinding)).toEqual([]);
    expect(fs.readFileSync(path.join(out, "plan.md"), "utf8")).toContain("## Policies");
  });
});
