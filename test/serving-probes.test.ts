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
import { autoscaledIgnoreChanges, planDeployment, planInferenceService } from "../components/serving/workload";

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

describe("what Pulumi leaves to the autoscaler exists on the object it is set on", () => {
  const inputs = {
    metadata: { name: "m", namespace: "retrieval", labels: { app: "m" } },
    selector: { app: "m" },
    podLabels: { app: "m" },
    replicas: 1,
    maxReplicas: 3,
    strategy: { type: "RollingUpdate" as const, rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    pod: planPod({
      ctx: modelContext({ model: sglangModel, environment: "prod", gpuNodeGroup: l4 as never }),
      workload: adapterFor("sglang").workload(
        modelContext({ model: sglangModel, environment: "prod", gpuNodeGroup: l4 as never }),
      ),
      podLabels: { app: "m" },
      strictSpread: false,
    }),
  };
  const at = (o: unknown, p: string) =>
    p
      .split(".")
      .reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), o);
  const isvc = adapterFor("kserve").workload(
    modelContext({ model: { ...sglangModel, engine: "kserve" }, environment: "prod", gpuNodeGroup: l4 as never }),
  ).inferenceService!;

  it.each([
    ["Deployment", planDeployment(inputs)],
    ["InferenceService", planInferenceService(inputs, isvc)],
  ] as const)("%s: every ignoreChanges path is a field of the rendered object", (kind, object) => {
    const paths = autoscaledIgnoreChanges(kind);
    for (const p of paths) expect(at(object, p), `${kind} ${p}`).toBeDefined();
  });

  it("KServe's predictor Deployment is KEDA's (Pulumi does not manage it): nothing on the InferenceService is ignored", () => {
    expect(autoscaledIgnoreChanges("InferenceService")).toEqual([]);
    expect(autoscaledIgnoreChanges("Deployment")).toEqual(["spec.replicas"]);
  });
});
