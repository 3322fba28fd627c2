import { describe, expect, it } from "vitest";
import { validateObjects, type K8sObject } from "../plan/validate";
import { GPU_TAINT, NODE_GROUP_LABEL, GPU_CLASS_LABEL } from "../components/k8s/meta";
import {
  ENGINE_CLIENT_LABEL,
  INGRESS_NAMESPACE,
  MONITORING_NAMESPACE,
  PROMETHEUS_URL,
  VERIFIER_POD_LABEL,
} from "../components/k8s/namespaces";
import { REDACTED } from "../plan/redact";
import { CONTROLLER_SELECTOR } from "../components/ingress/nginx-ingress/chart";
import { SHIPPED_MODELS, engineContainer, one, podSpecOf, renderModel, type ModelInput } from "./fixtures/serving";
import type { Rendered } from "./harness";

async function expectSchemaValid(r: Rendered) {
  const failures = await validateObjects(r.objects<K8sObject>());
  expect(failures).toEqual([]);
}

const gpuAffinity = (group: string, gpuClass: string) => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: NODE_GROUP_LABEL, operator: "In", values: [group] },
            { key: GPU_CLASS_LABEL, operator: "In", values: [gpuClass] },
          ],
        },
      ],
    },
  },
});

describe("Qwen3-Reranker-4B on vLLM (prod, L40S)", async () => {
  const r = await renderModel(SHIPPED_MODELS.qwen3Reranker);
  const pod = podSpecOf(r);
  const engine = engineContainer(r);

  it("every rendered object passes schema validation", () => expectSchemaValid(r));

  it("runs the pinned vLLM image with one GPU, on the L40S node group, tolerating the GPU taint", () => {
    expect(engine.image).toBe("vllm/vllm-openai:v0.27.1");
    expect(engine.resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(engine.resources.requests["nvidia.com/gpu"]).toBe("1");
    expect(pod.tolerations).toEqual([{ key: GPU_TAINT.key, operator: "Equal", value: "true", effect: "NoSchedule" }]);
    expect(pod.affinity).toEqual(gpuAffinity("l40s", "l40s"));
  });

  it("ships the reranker chat template in a ConfigMap mounted where --chat-template points", () => {
    const cm = one(r, "ConfigMap");
    expect(Object.keys(cm.data)).toEqual(["qwen3_reranker.jinja"]);
    expect(cm.data["qwen3_reranker.jinja"]).toContain('the answer can only be "yes" or "no"');
    expect(engine.args[engine.args.indexOf("--chat-template") + 1]).toBe("/etc/retrieval-stack/qwen3_reranker.jinja");
    expect(engine.volumeMounts).toContainEqual({
      name: "engine-files",
      mountPath: "/etc/retrieval-stack",
      readOnly: true,
    });
    expect(pod.volumes).toContainEqual({ name: "engine-files", configMap: { name: "qwen3-reranker-files" } });
  });

  it("gives vLLM a memory-backed /dev/shm and the node-local weight cache", () => {
    expect(pod.volumes).toContainEqual({ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "2Gi" } });
    expect(pod.volumes).toContainEqual({
      name: "model-cache",
      hostPath: { path: "/var/lib/retrieval-stack/model-cache/retrieval/qwen3-reranker", type: "DirectoryOrCreate" },
    });
    expect(engine.env).toContainEqual({ name: "HF_HOME", value: "/cache/huggingface" });
  });

  it("gives a 4B model a startup budget of more than 10 minutes before liveness may kill it", () => {
    const sp = engine.startupProbe;
    expect(sp.httpGet).toEqual({ path: "/health", port: 8000 });
    expect(sp.periodSeconds * sp.failureThreshold).toBeGreaterThanOrEqual(600);
    expect(engine.readinessProbe.httpGet).toEqual({ path: "/health", port: 8000 });
    expect(engine.livenessProbe.httpGet).toEqual({ path: "/health", port: 8000 });
  });

  it("reads the HF token from the model's Secret, which holds it only as a secret", () => {
    expect(engine.env).toContainEqual({
      name: "HF_TOKEN",
      valueFrom: { secretKeyRef: { name: "qwen3-reranker-hf-token", key: "HF_TOKEN" } },
    });
    const secret = one(r, "Secret");
    expect(secret.stringData).toEqual({ HF_TOKEN: REDACTED });
    expect(JSON.stringify(r.objects())).not.toContain("hf_offline_test_token");
  });

  it("drains: preStop sleep, then a grace period longer than the drain", () => {
    expect(engine.lifecycle.preStop.exec.command).toEqual(["sleep", "10"]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(10 + 30 - 1);
  });

  it("rolls out one extra GPU at a time and never below the serving replicas", () => {
    const d = one(r, "Deployment");
    expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(d.spec.replicas).toBe(2);
  });

  it("spreads replicas over zones and hosts, strictly in prod, and keeps a PDB", () => {
    expect(pod.topologySpreadConstraints.map((c: any) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
      ["topology.kubernetes.io/zone", "DoNotSchedule"],
      ["kubernetes.io/hostname", "DoNotSchedule"],
    ]);
    const pdb = one(r, "PodDisruptionBudget");
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(one(r, "Deployment").spec.selector.matchLabels);
  });

  it("autoscales with KEDA on vLLM's waiting and running requests for this model", () => {
    const so = one(r, "ScaledObject");
    expect(so.spec.scaleTargetRef.name).toBe("qwen3-reranker");
    expect(so.spec.minReplicaCount).toBe(2);
    expect(so.spec.maxReplicaCount).toBe(4);
    expect(so.spec.triggers.map((t: any) => [t.name, t.metadata.query, t.metadata.threshold])).toEqual([
      ["queue-depth", 'sum(vllm:num_requests_waiting{namespace="retrieval",model="qwen3-reranker"})', "8"],
      ["in-flight", 'sum(vllm:num_requests_running{namespace="retrieval",model="qwen3-reranker"})', "32"],
    ]);
    expect(so.spec.triggers[0].metadata.serverAddress).toBe(PROMETHEUS_URL);
    // Stabilised to the cold start: scale-down waits at least the startup budget.
    const budget = engine.startupProbe.periodSeconds * engine.startupProbe.failureThreshold;
    expect(
      so.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds,
    ).toBeGreaterThanOrEqual(budget - 10);
  });
});

describe("bge-large-zh-v1.5 on SGLang (prod, L4)", async () => {
  const r = await renderModel(SHIPPED_MODELS.bgeLargeZh);
  const engine = engineContainer(r);

  it("every rendered object passes schema validation", () => expectSchemaValid(r));

  it("runs the embedding server with metrics on, on the L4 group, port 30000", () => {
    expect(engine.image).toBe("lmsysorg/sglang:v0.5.10.post1");
    expect(engine.args).toEqual(
      expect.arrayContaining(["--is-embedding", "--enable-metrics", "--attention-backend", "triton"]),
    );
    expect(engine.ports).toEqual([{ name: "http", containerPort: 30000, protocol: "TCP" }]);
    expect(podSpecOf(r).affinity).toEqual(gpuAffinity("l4", "l4"));
  });

  it("has a ClusterIP Service on port 80 and scrapes /metrics on the HTTP port with the model label", () => {
    const svc = one(r, "Service");
    expect(svc.spec.type).toBe("ClusterIP");
    expect(svc.spec.ports).toEqual([{ name: "http", port: 80, targetPort: 30000, protocol: "TCP" }]);
    const sm = one(r, "ServiceMonitor");
    expect(sm.spec.endpoints).toEqual([
      {
        port: "http",
        path: "/metrics",
        interval: "15s",
        relabelings: [
          {
            sourceLabels: ["__meta_kubernetes_pod_label_retrieval_stack_io_model"],
            targetLabel: "model",
            action: "replace",
          },
        ],
      },
    ]);
    // The ServiceMonitor selects our Service by a label only it carries (see the KServe test below).
    expect(sm.spec.selector.matchLabels).toEqual({ "retrieval-stack.io/metrics-service": "bge-large-zh" });
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
  });

  it("admits the ingress controller's pods (not its whole namespace), labelled engine clients and Prometheus pods", () => {
    const np = one(r, "NetworkPolicy");
    expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": INGRESS_NAMESPACE } },
            podSelector: { matchLabels: CONTROLLER_SELECTOR },
          },
          { podSelector: { matchLabels: { [ENGINE_CLIENT_LABEL]: "true" } } },
        ],
        ports: [{ protocol: "TCP", port: 30000 }],
      },
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": MONITORING_NAMESPACE } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 30000 }],
      },
    ]);
  });

  it("autoscales on SGLang's queue and running-request gauges", () => {
    const so = one(r, "ScaledObject");
    expect(so.spec.triggers.map((t: any) => t.metadata.query)).toEqual([
      'sum(sglang:num_queue_reqs{namespace="retrieval",model="bge-large-zh"})',
      'sum(sglang:num_running_reqs{namespace="retrieval",model="bge-large-zh"})',
    ]);
  });

  it("a 0.3B embedder gets a shorter startup budget than the 4B reranker (same minimum floor aside)", async () => {
    const big = engineContainer(await renderModel({ ...SHIPPED_MODELS.qwen3Reranker, engine: "sglang" } as ModelInput));
    const budget = (c: any) => c.startupProbe.periodSeconds * c.startupProbe.failureThreshold;
    expect(budget(engine)).toBeLessThan(budget(big));
    expect(budget(engine)).toBeGreaterThanOrEqual(300);
  });
});

describe("gte-base on KServe (prod, L4)", async () => {
  const r = await renderModel(SHIPPED_MODELS.gteBase);
  const isvc = one(r, "InferenceService");

  it("every rendered object passes schema validation (InferenceService included)", () => expectSchemaValid(r));

  it("renders an InferenceService in Standard mode with the huggingface format and the pinned GPU image", () => {
    expect(r.objects("Deployment")).toEqual([]);
    expect(isvc.metadata.annotations["serving.kserve.io/deploymentMode"]).toBe("Standard");
    expect(isvc.spec.predictor.model.modelFormat).toEqual({ name: "huggingface" });
    expect(isvc.spec.predictor.model.image).toBe("kserve/huggingfaceserver:v0.20.0-gpu");
    expect(isvc.spec.predictor.model.resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(isvc.spec.predictor.tolerations).toEqual([
      { key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" },
    ]);
    expect(isvc.spec.predictor.deploymentStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
  });

  it("probes readiness on the V1 model endpoint and runs as the image's non-root user", () => {
    const m = isvc.spec.predictor.model;
    expect(m.readinessProbe.httpGet).toEqual({ path: "/v1/models/gte-base", port: 8080 });
    expect(m.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false });
  });

  it("scales the predictor Deployment KServe creates, and our Service selects its pods", () => {
    expect(one(r, "ScaledObject").spec.scaleTargetRef.name).toBe("gte-base-predictor");
    expect(isvc.spec.predictor.labels).toMatchObject(one(r, "Service").spec.selector);
    expect(one(r, "PodDisruptionBudget").spec.selector.matchLabels).toEqual(one(r, "Service").spec.selector);
  });
});

describe("a reranker on Xinference (prod, L4)", async () => {
  const r = await renderModel(SHIPPED_MODELS.xinferenceReranker);
  const pod = podSpecOf(r);

  it("every rendered object passes schema validation", () => expectSchemaValid(r));

  it("runs the server and the launcher sidecar; ready only once the model UID is listed", () => {
    expect(pod.containers.map((c: any) => c.name)).toEqual(["engine", "launch-model"]);
    const engine = engineContainer(r);
    expect(engine.readinessProbe.httpGet).toEqual({ path: "/v1/models/bge-reranker-v2", port: 9997 });
    expect(engine.resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(pod.containers[1].resources.limits["nvidia.com/gpu"]).toBeUndefined();
  });

  it("scrapes the worker exporter on its own port and scales on in-flight requests only", () => {
    const svc = one(r, "Service");
    expect(svc.spec.ports).toContainEqual({ name: "metrics", port: 9998, targetPort: 9998, protocol: "TCP" });
    expect(one(r, "ServiceMonitor").spec.endpoints[0].port).toBe("metrics");
    expect(one(r, "ScaledObject").spec.triggers.map((t: any) => [t.name, t.metadata.query])).toEqual([
      ["in-flight", 'sum(xinference:model_serve_count{namespace="retrieval",model="bge-reranker-v2"})'],
    ]);
  });
});

describe("bge-small-zh-v1.5 and bge-reranker-base on TEI, CPU (local)", async () => {
  const small = await renderModel(SHIPPED_MODELS.bgeSmallZhCpu, { environment: "local" });
  const reranker = await renderModel(SHIPPED_MODELS.bgeRerankerBaseCpu, { environment: "local" });

  it("every rendered object passes schema validation", async () => {
    await expectSchemaValid(small);
    await expectSchemaValid(reranker);
  });

  it("uses the CPU image, no GPU, no GPU toleration or affinity, the configured requests", () => {
    for (const r of [small, reranker]) {
      const engine = engineContainer(r);
      expect(engine.image).toBe("ghcr.io/huggingface/text-embeddings-inference:cpu-1.9.3");
      expect(engine.resources.limits["nvidia.com/gpu"]).toBeUndefined();
      expect(podSpecOf(r).tolerations).toBeUndefined();
      expect(podSpecOf(r).affinity).toBeUndefined();
    }
    expect(engineContainer(small).resources).toEqual({
      requests: { cpu: "2", memory: "2Gi" },
      limits: { memory: "2Gi" },
    });
    expect(engineContainer(reranker).args.slice(0, 2)).toEqual(["--model-id", "BAAI/bge-reranker-base"]);
  });

  it("allows Recreate and soft spreading in local; no PDB for a single replica", () => {
    expect(one(small, "Deployment").spec.strategy).toEqual({ type: "Recreate" });
    expect(podSpecOf(small).topologySpreadConstraints.every((c: any) => c.whenUnsatisfiable === "ScheduleAnyway")).toBe(
      true,
    );
    expect(small.objects("PodDisruptionBudget")).toEqual([]);
  });

  it("runs TEI as non-root after chowning the node cache, with no privilege escalation", () => {
    const pod = podSpecOf(small);
    expect(pod.initContainers.map((c: any) => [c.name, c.command.join(" ")])).toEqual([
      ["cache-permissions", "sh -c chown -R 1000:1000 /cache"],
    ]);
    expect(engineContainer(small).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
    });
    expect(pod.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
  });

  it("autoscales on TEI's queue size and derived in-flight work", () => {
    expect(one(small, "ScaledObject").spec.triggers.map((t: any) => t.metadata.query)).toEqual([
      'sum(te_queue_size{namespace="retrieval",model="bge-small-zh"})',
      'sum(rate(te_request_inference_duration_sum{namespace="retrieval",model="bge-small-zh"}[1m]))',
    ]);
  });
});

describe("monitoring, scale to zero and secrets switches", () => {
  it("without monitoring: no ServiceMonitor, no ScaledObject (their CRDs may be missing)", async () => {
    const r = await renderModel(SHIPPED_MODELS.bgeSmallZhCpu, {
      environment: "local",
      monitoring: false,
      autoscaling: false,
    });
    expect(r.objects("ServiceMonitor")).toEqual([]);
    expect(r.objects("ScaledObject")).toEqual([]);
    expect(one(r, "Deployment").spec.replicas).toBe(1);
  });

  const activeHours = { timezone: "Asia/Shanghai", start: "0 8 * * 1-5", end: "0 20 * * 1-5" };

  it("scales to zero outside working hours: a KEDA cron trigger keeps one replica from start to end", async () => {
    const dev = { ...SHIPPED_MODELS.bgeLargeZh, replicas: { min: 0, max: 2 }, autoscaling: { activeHours } };
    const r = await renderModel(dev, { environment: "dev" });
    const so = one(r, "ScaledObject");
    // minReplicaCount 0 is what lets KEDA go to zero; idleReplicaCount must stay unset (it must be below min).
    expect(so.spec.minReplicaCount).toBe(0);
    expect(so.spec.idleReplicaCount).toBeUndefined();
    expect(so.spec.cooldownPeriod).toBeGreaterThanOrEqual(300);
    expect(so.spec.triggers.find((t: any) => t.type === "cron")).toEqual({
      type: "cron",
      name: "active-hours",
      metadata: { timezone: "Asia/Shanghai", start: "0 8 * * 1-5", end: "0 20 * * 1-5", desiredReplicas: "1" },
    });
    // The queue and in-flight triggers still add replicas above the schedule's one; the verifier's pods wake it.
    expect(so.spec.triggers.map((t: any) => t.name)).toEqual(["queue-depth", "in-flight", "active-hours", "verifier"]);
    // A first deploy outside the hours keeps its replica up through the cold start and the verification.
    const budget = engineContainer(r).startupProbe.periodSeconds * engineContainer(r).startupProbe.failureThreshold;
    expect(so.spec.initialCooldownPeriod).toBeGreaterThanOrEqual(budget + 1800 - 10);
    expect(one(r, "Deployment").spec.replicas).toBe(1);
    expect(one(r, "Deployment").spec.strategy).toEqual({ type: "Recreate" });
    await expectSchemaValid(r);
  });

  it("a scale-to-zero model runs one replica while a verification pod exists (KEDA kubernetes-workload trigger)", async () => {
    const r = await renderModel(
      { ...SHIPPED_MODELS.bgeLargeZh, replicas: { min: 0, max: 2 }, autoscaling: { activeHours } },
      { environment: "dev" },
    );
    const so = one(r, "ScaledObject");
    // Counts the verifier's Pending/Running pods in the ScaledObject's namespace: active above 0, 1 replica per pod.
    expect(so.spec.triggers.find((t: any) => t.name === "verifier")).toEqual({
      type: "kubernetes-workload",
      name: "verifier",
      metadata: { podSelector: `${VERIFIER_POD_LABEL}=true`, value: "1", activationValue: "0" },
    });
    expect(so.metadata.namespace).toBe("retrieval");
    // Models that never scale to zero do not react to the verifier.
    const always = one(await renderModel(SHIPPED_MODELS.bgeLargeZh), "ScaledObject");
    expect(always.spec.triggers.some((t: any) => t.type === "kubernetes-workload")).toBe(false);
  });

  it("scales to zero with a demand signal from outside the engine (library use)", async () => {
    const dev = { ...SHIPPED_MODELS.bgeLargeZh, replicas: { min: 0, max: 2 } };
    const withDemand = await renderModel(dev, {
      environment: "dev",
      demandQuery: 'sum(rate(gateway_requests_total{model="bge-large-zh"}[2m]))',
    });
    const so = one(withDemand, "ScaledObject");
    expect(so.spec.minReplicaCount).toBe(0);
    expect(so.spec.triggers.map((t: any) => t.name)).toEqual(["queue-depth", "in-flight", "demand", "verifier"]);
    expect(so.spec.triggers.find((t: any) => t.name === "demand")).toMatchObject({
      metadata: { activationThreshold: "0" },
    });
    expect(so.spec.triggers.some((t: any) => t.type === "cron")).toBe(false);
  });

  it("refuses replicas.min 0 with nothing to wake the model, or without KEDA", async () => {
    const dev = { ...SHIPPED_MODELS.bgeLargeZh, replicas: { min: 0, max: 2 } };
    await expect(renderModel(dev, { environment: "dev" })).rejects.toThrow(
      /model.replicas.min: 0 with nothing to bring the model back.*Fix: set model.autoscaling.activeHours, pass demandQuery, or set replicas.min: 1/,
    );
    await expect(
      renderModel({ ...dev, autoscaling: { activeHours } }, { environment: "dev", autoscaling: false }),
    ).rejects.toThrow(/model.replicas.min: 0 needs KEDA .* autoscaling is false/);
  });

  it("a model that never goes below one replica gets no schedule and no initial cooldown", async () => {
    const so = one(await renderModel(SHIPPED_MODELS.bgeLargeZh), "ScaledObject");
    expect(so.spec.minReplicaCount).toBe(2);
    expect(so.spec.initialCooldownPeriod).toBeUndefined();
    expect(so.spec.triggers.some((t: any) => t.type === "cron")).toBe(false);
  });

  it("without an HF token: no Secret and no token variable", async () => {
    const r = await renderModel(SHIPPED_MODELS.bgeSmallZhCpu, { environment: "local", hfToken: false });
    expect(r.objects("Secret")).toEqual([]);
    expect(engineContainer(r).env.find((e: any) => e.name === "HF_TOKEN")).toBeUndefined();
  });
});

describe("InferenceService schema (plan/schemas/kserve.ts)", async () => {
  const r = await renderModel(SHIPPED_MODELS.gteBase);
  const isvc = one<K8sObject & { spec: any; metadata: any }>(r, "InferenceService");
  const broken = (mutate: (o: any) => void) => {
    const o = structuredClone(isvc);
    mutate(o);
    return validateObjects([o]);
  };

  it("rejects a bad container field inside the predictor's model", async () => {
    const f = await broken((o) => (o.spec.predictor.model.ports = [{ containerPort: "http" }]));
    expect(f[0]?.error).toContain("model container");
  });

  it("rejects an unknown deployment mode and an invalid pod field", async () => {
    expect(
      (await broken((o) => (o.metadata.annotations["serving.kserve.io/deploymentMode"] = "Raw")))[0]?.error,
    ).toContain("deploymentMode");
    expect((await broken((o) => (o.spec.predictor.tolerations = "nvidia"))).length).toBe(1);
  });

  it("rejects minReplicas above maxReplicas", async () => {
    expect((await broken((o) => (o.spec.predictor.minReplicas = 5)))[0]?.error).toContain(
      "minReplicas 5 is above maxReplicas 3",
    );
  });
});

describe("default requests fit the node", () => {
  it("a 4B reranker on a 16 GiB g6.xlarge asks for at most 13 GiB, /dev/shm included, and 3 of 4 vCPUs", async () => {
    const r = await renderModel(
      {
        ...SHIPPED_MODELS.qwen3Reranker,
        gpu: { nodeGroup: "l4" },
        maxModelLen: 8192,
        replicas: { min: 0, max: 1 },
        autoscaling: { activeHours: { timezone: "UTC", start: "0 8 * * *", end: "0 18 * * *" } },
      },
      { environment: "dev" },
    );
    const { requests, limits } = engineContainer(r).resources;
    expect(requests).toEqual({ cpu: "3", memory: "13Gi", "nvidia.com/gpu": "1" });
    expect(limits.memory).toBe(requests.memory);
  });
});
