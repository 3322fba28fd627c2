import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runPlan } from "../plan/run";
import { validateObjects } from "../plan/validate";

// One in-process plan per file: the Pulumi runtime is global state (vitest gives each file its own process).
describe("the plan's validator can fail", () => {
  it("rejects an invalid object, naming its kind and name, and writes nothing", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "rs-tamper-"));
    fs.rmSync(out, { recursive: true });
    const result = await runPlan({
      stack: "local",
      outDir: out,
      tamper: (plan) => {
        plan.objects.push({
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "broken", namespace: "retrieval" },
          spec: { replicas: "two", selector: {}, template: {} },
        });
      },
    });
    expect(result.ok).toBe(false);
    expect(result.errors.join("\n")).toMatch(
      /invalid Deployment retrieval\/broken \(apps\/v1\): .*replicas must be integer/,
    );
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe("validateObjects", () => {
  it("accepts a valid core object and rejects a kind it has no schema for", async () => {
    const failures = await validateObjects([
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ok" }, data: { a: "b" } },
      { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } },
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.object).toBe("Widget w (example.com/v1)");
    expect(failures[0]!.error).toContain("no schema known");
  });

  it("validates custom resources against their CRD schema", async () => {
    const failures = await validateObjects([
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: "bad" },
        spec: { selector: {}, endpoints: [{ port: 8000 }] },
      },
    ]);
    expect(failures[0]?.error).toContain("port must be string");
  });
});
