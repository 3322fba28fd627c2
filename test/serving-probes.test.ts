/**
 * Liveness restarts an engine whose inference loop is wedged, not one that is only busy. SGLang's /v1/models is
 * answered by the HTTP process alone (it stays 200 while the scheduler hangs); its /health sends a one-token request
 * through the scheduler and answers 503 when nothing comes back within SGLANG_HEALTH_CHECK_TIMEOUT (20 s).
 */
import { describe, expect, it } from "vitest";
import { ModelConfigSchema } from "../components/config";
import { adapterFor } from "../components/serving/engines";
import { modelContext } from "../components/serving/model-service";
import { planPod } from "../components/serving/pod";

const sglangModel = ModelConfigSchema.parse({
  name: "bge-large-zh",
  model: "BAAI/bge-large-zh-v1.5",
  engine: "sglang",
  task: "embed",
  replicas: { min: 1, max: 2 },
  gpu: { nodeGroup: "l4" },
  slo: { p99LatencyMs: 300 },
});
const l4 = { instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 2 };

describe("SGLang liveness", () => {
  const ctx = modelContext({ model: sglangModel, environment: "prod", gpuNodeGroup: l4 as never });
  const workload = adapterFor("sglang").workload(ctx);
  const { engine } = planPod({ ctx, workload, podLabels: { app: "x" }, strictSpread: false });
  const live = engine.livenessProbe as {
    httpGet: { path: string };
    timeoutSeconds: number;
    periodSeconds: number;
    failureThreshold: number;
  };

  it("probes /health, which runs a request through the scheduler, with SGLang's generation check on", () => {
    expect(live.httpGet.path).toBe("/health");
    expect(engine.env).toContainEqual({ name: "SGLANG_ENABLE_HEALTH_ENDPOINT_GENERATION", value: "true" });
  });

  it("waits longer than SGLang's own 20 s check and restarts only after minutes of failures, never on one busy batch", () => {
    expect(live.timeoutSeconds).toBeGreaterThan(20);
    expect(live.periodSeconds * live.failureThreshold).toBeGreaterThanOrEqual(120);
  });
});
