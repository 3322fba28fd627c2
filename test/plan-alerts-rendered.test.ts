/**
 * plan.md tells what is rendered: its alert count, table and "Not rendered" list against the PrometheusRule in the
 * stack's manifests, and its diagram's gateway and canary against the workloads in the manifests, for every stack.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { STACKS } from "./config-helpers";
import { sharedPlan } from "./shared-plans";

interface Rule {
  alert: string;
  labels: Record<string, string>;
}

function manifests(out: string): Record<string, unknown>[] {
  const objects: Record<string, unknown>[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".yaml"))
        for (const d of YAML.parseAllDocuments(fs.readFileSync(p, "utf8")))
          if (d.toJS()) objects.push(d.toJS() as Record<string, unknown>);
    }
  };
  walk(path.join(out, "manifests"));
  return objects;
}

const kindOf = (o: Record<string, unknown>) => o.kind as string;
const componentOf = (o: Record<string, unknown>) =>
  (o.metadata as { labels?: Record<string, string> } | undefined)?.labels?.["app.kubernetes.io/component"];

function renderedRules(objects: Record<string, unknown>[]): Rule[] {
  return objects
    .filter((o) => kindOf(o) === "PrometheusRule")
    .flatMap((o) => (o.spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules))
    .filter((r) => r.alert !== undefined); // recording rules (the cost series) are not alerts
}

describe("plan.md counts and lists the alert rules that are rendered", () => {
  it.each(STACKS)("%s", async (stack) => {
    const { out, result } = await sharedPlan(stack);
    expect(result.code, result.stderr).toBe(0);
    const md = fs.readFileSync(path.join(out, "plan.md"), "utf8");
    const rules = renderedRules(manifests(out));
    const count = /(\d+) alert rules of (\d+) kinds rendered/.exec(md);
    if (rules.length === 0) {
      expect(count).toBeNull();
      return;
    }
    expect(count, "plan.md has no alert count").not.toBeNull();
    expect(Number(count![1])).toBe(rules.length);
    expect(Number(count![2])).toBe(new Set(rules.map((r) => r.alert)).size);

    const table = md.slice(md.indexOf("| alert | severity |")).split("\n\n")[0]!;
    const rows = [...table.matchAll(/^\| `(\w+)` \| (\w+) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows.sort()).toEqual(rules.map((r) => `${r.alert} ${r.labels.severity}`).sort());

    const notRendered = md.includes("Not rendered:")
      ? md.slice(md.indexOf("Not rendered:")).split("\n\n")[0]!.split("\n").slice(1)
      : [];
    for (const line of notRendered) {
      const [, alert, model] = /^- `(\w+)`(?: for `([\w-]+)`)?/.exec(line) ?? [];
      const hit = rules.filter((r) => r.alert === alert && (model === undefined || r.labels.model === model));
      expect(hit, `plan.md says "${line}" but it is rendered`).toEqual([]);
    }
  });
});

describe("plan.md's diagram shows the gateway and the canary when they are rendered", () => {
  it.each(STACKS)("%s", async (stack) => {
    const { out, result } = await sharedPlan(stack);
    expect(result.code, result.stderr).toBe(0);
    const md = fs.readFileSync(path.join(out, "plan.md"), "utf8");
    const diagram = /```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1] ?? "";
    const workloads = manifests(out).filter((o) => ["Deployment", "CronJob"].includes(kindOf(o)));
    const gateway = workloads.some((o) => componentOf(o) === "gateway");
    const canary = workloads.some((o) => componentOf(o) === "quality-canary");
    expect(/\bgateway\["/.test(diagram), "gateway node").toBe(gateway);
    expect(/\bcanary\["/.test(diagram), "canary node").toBe(canary);
    if (gateway) {
      expect(diagram).toMatch(/nginx -- "[^"]*" --> gateway/);
      for (const m of diagram.matchAll(/^\s+(m_\w+)\[/gm)) expect(diagram).toContain(`gateway --> ${m[1]}`);
    }
    if (canary) expect(diagram).toMatch(/canary -.->\|calls\| (gateway|m_\w+)/);
  });
});
