import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runPlan, type PlanResult } from "../plan/run";
import type { RecordedResource } from "../plan/offline";
import { waitsFor as waitsForIn } from "./harness";

// The whole program for prod, in process: what waits for what on a fresh cluster.
let result: PlanResult;

beforeAll(async () => {
  result = await runPlan({ stack: "prod", outDir: fs.mkdtempSync(path.join(os.tmpdir(), "rs-order-")) });
  expect(result.errors).toEqual([]);
});

const waitsFor = (r: RecordedResource) => waitsForIn(result.recorded!, r);

const find = (type: string, pred: (r: RecordedResource) => boolean = () => true) => {
  const r = result.recorded!.find((x) => x.type === type && pred(x));
  if (!r) throw new Error(`no ${type}`);
  return r;
};
const kps = () =>
  find("kubernetes:helm.sh/v3:Release", (r) => (r.inputs as { chart?: string }).chart === "kube-prometheus-stack");

describe("ordering on a fresh cluster", () => {
  it("every ServiceMonitor, PrometheusRule and ScaledObject waits for the Prometheus Operator CRDs", () => {
    const crdUsers = result.recorded!.filter((r) =>
      ["ServiceMonitor", "PodMonitor", "PrometheusRule", "ScaledObject"].includes(
        (r.inputs as { kind?: string }).kind ?? "",
      ),
    );
    expect(crdUsers.length).toBeGreaterThan(5);
    for (const r of crdUsers) {
      if (r.parentUrn === kps().parentUrn) continue; // the observability component's own rules are ordered by the chart release itself
      expect(waitsFor(r).has(kps().urn), `${(r.inputs as { kind: string }).kind} ${r.name}`).toBe(true);
    }
  });

  it("model workloads wait for the GPU device plugin", () => {
    const plugin = find(
      "kubernetes:helm.sh/v3:Release",
      (r) => (r.inputs as { chart?: string }).chart === "nvidia-device-plugin",
    );
    const deployment = find("kubernetes:apps/v1:Deployment", (r) => r.name === "qwen3-reranker-deployment");
    expect(waitsFor(deployment).has(plugin.urn)).toBe(true);
  });

  it("the post-deploy verification waits for every model workload", () => {
    const job = find("kubernetes:batch/v1:Job");
    const waits = waitsFor(job);
    for (const name of ["bge-large-zh", "qwen3-reranker"])
      expect(waits.has(find("kubernetes:apps/v1:Deployment", (r) => r.name === `${name}-deployment`).urn), name).toBe(
        true,
      );
    expect(waits.has(find("kubernetes:serving.kserve.io/v1beta1:InferenceService").urn)).toBe(true);
  });

  it("the quality canary waits for every model workload and the gateway, and runs the verifier image the Job runs", () => {
    const canary = find("kubernetes:apps/v1:Deployment", (r) => r.name === "quality-canary");
    const waits = waitsFor(canary);
    for (const name of ["bge-large-zh", "qwen3-reranker", "gateway"])
      expect(waits.has(find("kubernetes:apps/v1:Deployment", (r) => r.name === `${name}-deployment`).urn), name).toBe(
        true,
      );
    const image = (r: RecordedResource) =>
      (r.inputs as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec
        .containers[0]!.image;
    expect(image(canary)).toBe(image(find("kubernetes:batch/v1:Job")));
  });
});
