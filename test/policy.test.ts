// Every policy rule, called directly (no gRPC server, no Pulumi CLI) on resources built by hand in the shape the
// offline runtime records and CrossGuard passes to validateResource: { type, name, props: inputs }.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { GPU_TAINT, NODE_GROUP_LABEL } from "../components/k8s/meta";
import { contextFor, contextFromPolicyConfig, policyPackConfigFor } from "../policy/context";
import { toPulumiPolicy } from "../policy/pack";
import { POLICY_RULES, type PolicyResource, type PolicyRule, type ResourceRule, type StackRule } from "../policy/rules";
import { modelsAreHighlyAvailable } from "../policy/rules/availability";
import { prodNodeGroupsNotSpotOnly } from "../policy/rules/capacity";
import { enginesStayInsideCluster } from "../policy/rules/exposure";
import { gpuPodsTolerateGpuTaint, gpuRequestsAreWholeGpus } from "../policy/rules/gpu";
import { modelWorkloadsHaveProbesAndRequests, workloadsHaveReadinessAndRequests } from "../policy/rules/health";
import { helmChartsArePinned, imagesArePinned, unpinnedImageReason } from "../policy/rules/images";
import { helmValuesHoldNoCredentials, noSecretsInPlainConfig } from "../policy/rules/secrets";
import { policyConfigForStackFile } from "../policy/stack-config";
import { runPolicies } from "../plan/policy";

const prod = contextFor("prod");
const dev = contextFor("dev");
const NS = "retrieval";

/** A compliant GPU model server, as ModelService should render it in prod. */
function gpuDeployment(name = "bge"): PolicyResource {
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/component": "model-server" };
  return {
    type: "kubernetes:apps/v1:Deployment",
    name,
    props: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: NS, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            tolerations: [{ ...GPU_TAINT, operator: "Equal" }],
            topologySpreadConstraints: [
              {
                topologyKey: "topology.kubernetes.io/zone",
                maxSkew: 1,
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: labels },
              },
            ],
            containers: [
              {
                name: "engine",
                image: "lmsysorg/sglang:v0.5.3-cu126",
                args: ["--model-path", "BAAI/bge-large-zh-v1.5", "--is-embedding"],
                env: [{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: "hf-token", key: "token" } } }],
                ports: [{ name: "http", containerPort: 30000 }],
                resources: {
                  requests: { cpu: "4", memory: "16Gi" },
                  limits: { "nvidia.com/gpu": "1", memory: "16Gi" },
                },
                startupProbe: { httpGet: { path: "/health", port: "http" }, failureThreshold: 120, periodSeconds: 10 },
                readinessProbe: { httpGet: { path: "/health", port: "http" } },
                livenessProbe: { httpGet: { path: "/health", port: "http" } },
              },
            ],
          },
        },
      },
    },
  };
}

function pdbFor(name = "bge"): PolicyResource {
  return {
    type: "kubernetes:policy/v1:PodDisruptionBudget",
    name: `${name}-pdb`,
    props: {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name, namespace: NS },
      spec: { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": name } } },
    },
  };
}

/** A deep copy with `edit` applied to its props. */
function variant(r: PolicyResource, edit: (props: any) => void): PolicyResource {
  const props = structuredClone(r.props) as any;
  edit(props);
  return { ...r, props };
}
const container = (p: any) => p.spec.template.spec.containers[0];

function service(type: string, labels: Record<string, string> = {}): PolicyResource {
  return {
    type: "kubernetes:core/v1:Service",
    name: "svc",
    props: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc", namespace: NS, labels },
      spec: { type, ports: [{ port: 80 }] },
    },
  };
}

const check = (rule: ResourceRule, r: PolicyResource, ctx = prod) => rule.validate(r, ctx);

describe("the pack", () => {
  it("has unique names, a description, a remediation and a justified level for every rule", () => {
    expect(new Set(POLICY_RULES.map((r) => r.name)).size).toBe(POLICY_RULES.length);
    for (const r of POLICY_RULES) {
      expect(r.name).toMatch(/^[a-z0-9-]+$/);
      expect(r.rationale.length, r.name).toBeGreaterThan(40);
      expect(r.remediation.length, r.name).toBeGreaterThan(20);
      if (r.enforcementLevel === "advisory") expect(r.rationale, r.name).toMatch(/^Advisory:/);
    }
  });

  it("blocks on what breaks a deploy or a security boundary; only judgement calls are advisory", () => {
    const advisory = POLICY_RULES.filter((r) => r.enforcementLevel === "advisory").map((r) => r.name);
    expect(advisory.sort()).toEqual(["helm-values-no-credentials", "workloads-readiness-and-requests"]);
  });

  it("a compliant GPU model server with its PDB passes every rule in prod", () => {
    const report = runPolicies([gpuDeployment(), pdbFor(), service("ClusterIP")], prod);
    expect(report.mandatory).toEqual([]);
    expect(report.advisory).toEqual([]);
  });

  it("constructs the PolicyPack only in policy/index.ts", () => {
    const dir = path.join(__dirname, "..", "policy");
    const files = fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    const constructing = files.filter((f) => /new PolicyPack\(/.test(fs.readFileSync(path.join(dir, f), "utf8")));
    expect(constructing).toEqual(["index.ts"]);
    expect(YAML.parse(fs.readFileSync(path.join(dir, "PulumiPolicy.yaml"), "utf8")).runtime).toBe("nodejs");
  });
});

describe("gpu-pods-tolerate-gpu-taint", () => {
  it("passes a GPU pod with the toleration, and an Exists toleration on the key", () => {
    expect(check(gpuPodsTolerateGpuTaint, gpuDeployment())).toEqual([]);
    const exists = variant(
      gpuDeployment(),
      (p) => (p.spec.template.spec.tolerations = [{ key: "nvidia.com/gpu", operator: "Exists" }]),
    );
    expect(check(gpuPodsTolerateGpuTaint, exists)).toEqual([]);
  });

  it("fails a GPU pod without it, or tolerating the wrong effect", () => {
    const none = variant(gpuDeployment(), (p) => delete p.spec.template.spec.tolerations);
    expect(check(gpuPodsTolerateGpuTaint, none)).toEqual([
      expect.stringMatching(/Deployment retrieval\/bge requests nvidia.com\/gpu .*nvidia.com\/gpu=true:NoSchedule/),
    ]);
    const wrongEffect = variant(
      gpuDeployment(),
      (p) => (p.spec.template.spec.tolerations = [{ ...GPU_TAINT, effect: "NoExecute" }]),
    );
    expect(check(gpuPodsTolerateGpuTaint, wrongEffect)).toHaveLength(1);
  });

  it("ignores CPU pods", () => {
    const cpu = variant(gpuDeployment(), (p) => {
      delete p.spec.template.spec.tolerations;
      container(p).resources.limits = { memory: "2Gi" };
    });
    expect(check(gpuPodsTolerateGpuTaint, cpu)).toEqual([]);
  });
});

describe("gpu-requests-whole-gpus", () => {
  it("passes whole GPUs as a string or a number", () => {
    expect(check(gpuRequestsAreWholeGpus, gpuDeployment())).toEqual([]);
    expect(
      check(
        gpuRequestsAreWholeGpus,
        variant(gpuDeployment(), (p) => (container(p).resources.limits["nvidia.com/gpu"] = 2)),
      ),
    ).toEqual([]);
  });

  it.each([["0.5"], ["500m"], [0]])("fails a fractional or zero limit %j", (q) => {
    const r = variant(gpuDeployment(), (p) => (container(p).resources.limits["nvidia.com/gpu"] = q));
    expect(check(gpuRequestsAreWholeGpus, r)).toEqual([expect.stringContaining("must be a whole number of GPUs")]);
  });

  it("fails a request without a limit, and a request that differs from the limit", () => {
    const noLimit = variant(
      gpuDeployment(),
      (p) => (container(p).resources = { requests: { "nvidia.com/gpu": "1", cpu: "1", memory: "1Gi" } }),
    );
    expect(check(gpuRequestsAreWholeGpus, noLimit)).toEqual([expect.stringContaining("without a limit")]);
    const differs = variant(gpuDeployment(), (p) => (container(p).resources.requests["nvidia.com/gpu"] = "2"));
    expect(check(gpuRequestsAreWholeGpus, differs)).toEqual([expect.stringContaining("they must be equal")]);
  });

  it("checks a KServe predictor's model container", () => {
    const isvc = (gpu: unknown): PolicyResource => ({
      type: "kubernetes:serving.kserve.io/v1beta1:InferenceService",
      name: "gte",
      props: {
        apiVersion: "serving.kserve.io/v1beta1",
        kind: "InferenceService",
        metadata: { name: "gte" },
        spec: {
          predictor: {
            model: { modelFormat: { name: "huggingface" }, resources: { limits: { "nvidia.com/gpu": gpu } } },
          },
        },
      },
    });
    expect(check(gpuRequestsAreWholeGpus, isvc("1"))).toEqual([]);
    expect(check(gpuRequestsAreWholeGpus, isvc("0.25"))).toHaveLength(1);
  });
});

describe("images-pinned", () => {
  it.each([
    "vllm/vllm-openai:v0.11.0",
    "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8",
    `nginx@sha256:${"a".repeat(64)}`,
    "registry:5000/team/gw:1.2.3",
  ])("accepts %s", (image) => {
    expect(unpinnedImageReason(image)).toBeUndefined();
  });

  it.each([
    ["nginx", /no tag/],
    ["registry:5000/team/gw", /no tag/],
    ["vllm/vllm-openai:latest", /moving tag "latest"/],
    ["xprobe/xinference:nightly", /moving tag "nightly"/],
    ["x:cpu-latest", /moving tag/],
    ["x@sha256:abc", /malformed digest/],
  ])("refuses %s", (image, why) => {
    expect(unpinnedImageReason(image)).toMatch(why);
  });

  it("passes the pinned model server and fails a latest init container", () => {
    expect(check(imagesArePinned, gpuDeployment())).toEqual([]);
    const r = variant(
      gpuDeployment(),
      (p) => (p.spec.template.spec.initContainers = [{ name: "fetch", image: "amazon/aws-cli:latest" }]),
    );
    expect(check(imagesArePinned, r)).toEqual([
      expect.stringMatching(/container "fetch" image "amazon\/aws-cli:latest" uses the moving tag/),
    ]);
  });

  it("fails `latest` in our Helm values", () => {
    const release = (values: unknown): PolicyResource => ({
      type: "kubernetes:helm.sh/v3:Release",
      name: "dcgm",
      props: { chart: "dcgm-exporter", version: "4.6.0", values },
    });
    expect(check(imagesArePinned, release({ image: { tag: "4.4.1-4.6.0-ubuntu22.04" } }))).toEqual([]);
    expect(check(imagesArePinned, release({ image: { tag: "latest" } }))).toEqual([
      expect.stringContaining("values.image.tag"),
    ]);
  });
});

describe("helm-charts-pinned", () => {
  const release = (version: unknown): PolicyResource => ({
    type: "kubernetes:helm.sh/v3:Release",
    name: "ingress-nginx",
    props: { chart: "ingress-nginx", version },
  });
  it("passes an exact version", () => {
    expect(check(helmChartsArePinned, release("4.13.3"))).toEqual([]);
    expect(check(helmChartsArePinned, release("v0.17.1"))).toEqual([]);
  });
  it.each([[undefined], ["^4.13.0"], ["4.x"], [""]])("fails version %j", (v) => {
    expect(check(helmChartsArePinned, release(v))).toEqual([expect.stringContaining("ingress-nginx")]);
  });
});

describe("model-workloads-probes-and-requests", () => {
  it("passes a model server with readiness, liveness/startup and requests", () => {
    expect(check(modelWorkloadsHaveProbesAndRequests, gpuDeployment())).toEqual([]);
    const startupOnly = variant(gpuDeployment(), (p) => delete container(p).livenessProbe);
    expect(check(modelWorkloadsHaveProbesAndRequests, startupOnly)).toEqual([]);
  });

  it("fails a model server without readiness, without liveness or startup, or without a memory request", () => {
    const r = variant(gpuDeployment(), (p) => {
      delete container(p).readinessProbe;
      delete container(p).livenessProbe;
      delete container(p).startupProbe;
      container(p).resources = { limits: { "nvidia.com/gpu": "1" } };
    });
    expect(check(modelWorkloadsHaveProbesAndRequests, r)).toEqual([
      'Deployment retrieval/bge model container "engine" (spec.template.spec.containers[0]) has no readinessProbe, no livenessProbe or startupProbe, no resources.requests.cpu, no resources.requests.memory.',
    ]);
  });

  it("recognises a CPU model server by its label, and leaves other workloads to the advisory rule", () => {
    const cpuModel = variant(gpuDeployment(), (p) => {
      container(p).resources = { requests: { cpu: "2" } };
      delete p.spec.template.spec.tolerations;
    });
    expect(check(modelWorkloadsHaveProbesAndRequests, cpuModel)).toEqual([
      expect.stringContaining("no resources.requests.memory"),
    ]);
    const gateway = variant(cpuModel, (p) => {
      p.metadata.labels["app.kubernetes.io/component"] = "gateway";
      p.spec.template.metadata.labels["app.kubernetes.io/component"] = "gateway";
    });
    expect(check(modelWorkloadsHaveProbesAndRequests, gateway)).toEqual([]);
    expect(check(workloadsHaveReadinessAndRequests, gateway)).toEqual([
      expect.stringContaining("no resources.requests.memory"),
    ]);
  });
});

describe("workloads-readiness-and-requests (advisory)", () => {
  const gateway = (c: Record<string, unknown>): PolicyResource => ({
    type: "kubernetes:apps/v1:Deployment",
    name: "gateway",
    props: {
      kind: "Deployment",
      metadata: { name: "gateway", labels: { "app.kubernetes.io/component": "gateway" } },
      spec: { template: { metadata: { labels: {} }, spec: { containers: [{ name: "gw", image: "gw:1.0.0", ...c }] } } },
    },
  });
  it("passes a helper with readiness and requests, and fails one without", () => {
    expect(
      check(
        workloadsHaveReadinessAndRequests,
        gateway({
          readinessProbe: { httpGet: { path: "/healthz", port: 8080 } },
          resources: { requests: { cpu: "100m", memory: "128Mi" } },
        }),
      ),
    ).toEqual([]);
    expect(check(workloadsHaveReadinessAndRequests, gateway({}))).toEqual([
      expect.stringContaining("has no readinessProbe, no resources.requests.cpu, no resources.requests.memory"),
    ]);
  });
  it("does not ask a Job for a readiness probe", () => {
    const job: PolicyResource = {
      type: "kubernetes:batch/v1:Job",
      name: "verify",
      props: {
        kind: "Job",
        metadata: { name: "verify" },
        spec: { template: { spec: { containers: [{ name: "v", image: "v:1.0.0" }] } } },
      },
    };
    expect(check(workloadsHaveReadinessAndRequests, job)).toEqual([]);
  });
});

describe("engines-cluster-internal", () => {
  it("passes ClusterIP and headless Services, and the ingress controller's LoadBalancer", () => {
    expect(check(enginesStayInsideCluster, service("ClusterIP"))).toEqual([]);
    expect(
      check(
        enginesStayInsideCluster,
        variant(service("ClusterIP"), (p) => delete p.spec.type),
      ),
    ).toEqual([]);
    expect(
      check(
        enginesStayInsideCluster,
        service("LoadBalancer", {
          "app.kubernetes.io/name": "ingress-nginx",
          "app.kubernetes.io/component": "controller",
        }),
      ),
    ).toEqual([]);
    expect(
      check(enginesStayInsideCluster, service("LoadBalancer", { "app.kubernetes.io/name": "nginx-ingress" })),
    ).toEqual([]);
  });

  it.each(["LoadBalancer", "NodePort"])("fails an engine Service of type %s", (type) => {
    expect(check(enginesStayInsideCluster, service(type, { "app.kubernetes.io/name": "bge" }))).toEqual([
      expect.stringContaining(`Service retrieval/svc is of type ${type}`),
    ]);
  });

  it("fails hostNetwork and hostPort on a model server", () => {
    const r = variant(gpuDeployment(), (p) => {
      p.spec.template.spec.hostNetwork = true;
      container(p).ports[0].hostPort = 30000;
    });
    expect(check(enginesStayInsideCluster, r)).toEqual([
      expect.stringContaining("hostNetwork: true"),
      expect.stringContaining("binds hostPort 30000"),
    ]);
  });
});

describe("models-highly-available", () => {
  const run = (rs: PolicyResource[], ctx = prod) =>
    (modelsAreHighlyAvailable as StackRule).validate(rs, ctx).map((v) => v.message);

  it("passes 2 replicas with a PDB and a zone spread in prod", () => {
    expect(run([gpuDeployment(), pdbFor()])).toEqual([]);
  });

  it("fails one replica, a missing PDB and a missing zone spread", () => {
    const single = variant(gpuDeployment(), (p) => {
      p.spec.replicas = 1;
      delete p.spec.template.spec.topologySpreadConstraints;
    });
    expect(run([single])).toEqual([
      "Deployment retrieval/bge can run with 1 replica(s); prod needs at least 2.",
      expect.stringContaining("Deployment retrieval/bge has no PodDisruptionBudget selecting its pods"),
      expect.stringContaining("no topologySpreadConstraint on topology.kubernetes.io/zone"),
    ]);
  });

  it("fails a PDB that selects other pods, or lives in another namespace", () => {
    const other = variant(pdbFor(), (p) => (p.spec.selector.matchLabels = { "app.kubernetes.io/name": "rerank" }));
    expect(run([gpuDeployment(), other])).toEqual([expect.stringContaining("no PodDisruptionBudget")]);
    const elsewhere = variant(pdbFor(), (p) => (p.metadata.namespace = "default"));
    expect(run([gpuDeployment(), elsewhere])).toEqual([expect.stringContaining("no PodDisruptionBudget")]);
  });

  it("takes the minimum from a KEDA ScaledObject or an HPA that targets the Deployment", () => {
    const scaledObject = (min?: number): PolicyResource => ({
      type: "kubernetes:keda.sh/v1alpha1:ScaledObject",
      name: "bge-scaler",
      props: {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: { name: "bge", namespace: NS },
        spec: { scaleTargetRef: { name: "bge" }, ...(min === undefined ? {} : { minReplicaCount: min }) },
      },
    });
    expect(run([gpuDeployment(), pdbFor(), scaledObject(3)])).toEqual([]);
    // KEDA's default minReplicaCount is 0: scale to zero in prod.
    expect(run([gpuDeployment(), pdbFor(), scaledObject()])).toEqual([
      "Deployment retrieval/bge can run with 0 replica(s); prod needs at least 2.",
    ]);
    const hpa: PolicyResource = {
      type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
      name: "bge-hpa",
      props: {
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "bge", namespace: NS },
        spec: { scaleTargetRef: { kind: "Deployment", name: "bge" } },
      },
    };
    expect(run([gpuDeployment(), pdbFor(), hpa])).toEqual([expect.stringContaining("can run with 1 replica(s)")]);
  });

  it("checks a KServe InferenceService predictor", () => {
    const isvc = (minReplicas: number): PolicyResource => ({
      type: "kubernetes:serving.kserve.io/v1beta1:InferenceService",
      name: "gte",
      props: {
        kind: "InferenceService",
        metadata: { name: "gte", namespace: NS },
        spec: {
          predictor: {
            minReplicas,
            topologySpreadConstraints: [{ topologyKey: "topology.kubernetes.io/zone" }],
            model: { modelFormat: { name: "huggingface" } },
          },
        },
      },
    });
    const pdb = variant(
      pdbFor("gte"),
      (p) => (p.spec.selector.matchLabels = { "serving.kserve.io/inferenceservice": "gte" }),
    );
    expect(run([isvc(2), pdb])).toEqual([]);
    expect(run([isvc(1), pdb])).toEqual([
      expect.stringContaining("InferenceService retrieval/gte can run with 1 replica(s)"),
    ]);
  });

  it("does not apply where the profile allows a single replica (dev, local)", () => {
    const single = variant(gpuDeployment(), (p) => (p.spec.replicas = 0));
    expect(run([single], dev)).toEqual([]);
    expect(run([single], contextFor("local"))).toEqual([]);
    expect(run([single], contextFor("staging"))).not.toEqual([]);
  });
});

describe("no-plain-secrets", () => {
  const TOKEN = `hf_${"Ab3".repeat(12)}`;

  it("passes a token from a secretKeyRef and numbers in token-ish names", () => {
    const r = variant(gpuDeployment(), (p) => container(p).env.push({ name: "MAX_BATCH_TOKENS", value: "16384" }));
    expect(check(noSecretsInPlainConfig, r)).toEqual([]);
  });

  it("fails a literal HF_TOKEN and a token in args, without echoing the value", () => {
    const r = variant(gpuDeployment(), (p) => {
      container(p).env = [{ name: "HF_TOKEN", value: TOKEN }];
      container(p).args.push("--api-key", "sk-abcdefghijklmnopqrstuvwx");
    });
    const found = check(noSecretsInPlainConfig, r);
    expect(found).toEqual([
      expect.stringContaining("sets env HF_TOKEN to a literal value"),
      expect.stringContaining("an OpenAI-style API key in clear at spec.template.spec.containers[0].args[4]"),
      expect.stringContaining("a Hugging Face token in clear at spec.template.spec.containers[0].env[0].value"),
    ]);
    expect(found.join("\n")).not.toContain(TOKEN);
  });

  it("fails a Secret built with data, passes one with stringData", () => {
    const secret = (body: Record<string, unknown>): PolicyResource => ({
      type: "kubernetes:core/v1:Secret",
      name: "hf",
      props: { kind: "Secret", metadata: { name: "hf" }, ...body },
    });
    expect(check(noSecretsInPlainConfig, secret({ stringData: { token: "[secret]" } }))).toEqual([]);
    expect(check(noSecretsInPlainConfig, secret({ data: { token: Buffer.from(TOKEN).toString("base64") } }))).toEqual([
      expect.stringContaining("use stringData"),
    ]);
  });

  it("fails a ConfigMap holding API keys or a chat webhook", () => {
    const cm = (data: Record<string, string>): PolicyResource => ({
      type: "kubernetes:core/v1:ConfigMap",
      name: "cfg",
      props: { kind: "ConfigMap", metadata: { name: "cfg" }, data },
    });
    expect(check(noSecretsInPlainConfig, cm({ "nginx.conf": "worker_processes 2;", "max-tokens": "512" }))).toEqual([]);
    expect(check(noSecretsInPlainConfig, cm({ "api-keys.conf": "x" }))).toEqual([
      expect.stringContaining('key "api-keys.conf" that names a secret'),
    ]);
    expect(
      check(
        noSecretsInPlainConfig,
        cm({ "alertmanager.yaml": "url: https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789" }),
      ),
    ).toEqual([expect.stringContaining("a DingTalk access token in clear at data.alertmanager.yaml")]);
  });
});

describe("helm-values-no-credentials (advisory)", () => {
  const release = (values: unknown): PolicyResource => ({
    type: "kubernetes:helm.sh/v3:Release",
    name: "kps",
    props: { chart: "kube-prometheus-stack", version: "77.0.0", values },
  });
  it("passes redacted secrets and ordinary values", () => {
    expect(
      check(helmValuesHoldNoCredentials, release({ grafana: { adminPassword: "[secret]", replicas: 1 } })),
    ).toEqual([]);
    // Keys that name a Secret object are references, not values.
    expect(
      check(
        helmValuesHoldNoCredentials,
        release({
          grafana: { admin: { existingSecret: "grafana-admin" } },
          alertmanager: { alertmanagerSpec: { configSecret: "am-config" } },
        }),
      ),
    ).toEqual([]);
  });
  it("flags a literal password and a webhook URL", () => {
    expect(check(helmValuesHoldNoCredentials, release({ grafana: { adminPassword: "hunter2hunter2" } }))).toEqual([
      expect.stringContaining("values.grafana.adminPassword"),
    ]);
    expect(
      check(helmValuesHoldNoCredentials, release({ receivers: ["https://hooks.slack.com/services/T000/B000XXXX"] })),
    ).toEqual([expect.stringContaining("a Slack webhook URL")]);
  });
});

describe("prod-node-groups-not-spot-only", () => {
  const group = (type: string, props: Record<string, unknown>): PolicyResource => ({
    type,
    name: "cluster-gpu-l4",
    props,
  });

  it("fails a spot managed node group in prod, as the eks component and as the AWS resource", () => {
    for (const type of ["eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup"]) {
      expect(check(prodNodeGroupsNotSpotOnly, group(type, { capacityType: "SPOT" }))).toEqual([
        expect.stringContaining("is spot-only (capacityType is SPOT) in prod"),
      ]);
      expect(check(prodNodeGroupsNotSpotOnly, group(type, { capacityType: "ON_DEMAND" }))).toEqual([]);
    }
  });

  it("passes spot in prod when the node group opted in, and spot in dev", () => {
    const spot = group("eks:index:ManagedNodeGroup", { capacityType: "SPOT", labels: { [NODE_GROUP_LABEL]: "l4" } });
    expect(check(prodNodeGroupsNotSpotOnly, spot, contextFor("prod", ["l4"]))).toEqual([]);
    expect(check(prodNodeGroupsNotSpotOnly, spot, contextFor("prod", ["l40s"]))).toHaveLength(1);
    expect(check(prodNodeGroupsNotSpotOnly, spot, dev)).toEqual([]);
  });

  it("fails a Karpenter NodePool limited to spot, passes one that may fall back to on-demand", () => {
    const pool = (values: string[]): PolicyResource => ({
      type: "kubernetes:karpenter.sh/v1:NodePool",
      name: "gpu",
      props: {
        kind: "NodePool",
        metadata: { name: "gpu" },
        spec: { template: { spec: { requirements: [{ key: "karpenter.sh/capacity-type", operator: "In", values }] } } },
      },
    });
    expect(check(prodNodeGroupsNotSpotOnly, pool(["spot"]))).toHaveLength(1);
    expect(check(prodNodeGroupsNotSpotOnly, pool(["spot", "on-demand"]))).toEqual([]);
  });
});

describe("running the rules", () => {
  it("reports a rule that throws as a mandatory finding instead of passing", () => {
    const broken: PolicyRule = {
      ...noSecretsInPlainConfig,
      name: "broken",
      enforcementLevel: "advisory",
      validate: () => {
        throw new Error("boom");
      },
    };
    const report = runPolicies([service("ClusterIP")], prod, [broken]);
    expect(report.mandatory).toEqual([
      expect.objectContaining({ rule: "broken", message: expect.stringContaining("boom") }),
    ]);
  });

  it("reads the environment from the profile: prod demands 2 replicas, 3 zones and a spot opt-in; dev none", () => {
    expect(prod).toMatchObject({ minReplicas: 2, minZones: 3, spotNeedsOptIn: true });
    expect(dev).toMatchObject({ minReplicas: 0, spotNeedsOptIn: false });
  });
});

describe("CrossGuard adapter", () => {
  it("passes type and props to the rule and the policy config as its context", () => {
    const policy = toPulumiPolicy(prodNodeGroupsNotSpotOnly) as any;
    const reported: string[] = [];
    const args = (environment: string) => ({
      type: "eks:index:ManagedNodeGroup",
      name: "gpu-l4",
      urn: "urn:x",
      props: { capacityType: "SPOT" },
      getConfig: () => ({ environment, spotOptInNodeGroups: [] }),
    });
    policy.validateResource(args("prod"), (m: string) => reported.push(m));
    policy.validateResource(args("dev"), (m: string) => reported.push(m));
    expect(reported).toEqual([expect.stringContaining("spot-only")]);
    expect(policy.enforcementLevel).toBe("mandatory");
    expect(policy.configSchema.properties.environment.default).toBe("prod");
  });

  it("reports stack violations on the offending resource's URN", () => {
    const policy = toPulumiPolicy(modelsAreHighlyAvailable) as any;
    const reported: [string, string | undefined][] = [];
    const single = { ...variant(gpuDeployment(), (p) => (p.spec.replicas = 1)), urn: "urn:bge" };
    policy.validateStack(
      { resources: [single], getConfig: () => ({ environment: "prod" }) },
      (m: string, urn?: string) => reported.push([m, urn]),
    );
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.every(([, urn]) => urn === "urn:bge")).toBe(true);
  });

  it("refuses an unknown environment in the policy config", () => {
    expect(() => contextFromPolicyConfig({ environment: "production" })).toThrow(
      /must be one of local, dev, staging, prod/,
    );
  });
});

describe("policy config per stack (policy/stack-config.ts)", () => {
  it("gives every policy the stack's environment", () => {
    const cfg = JSON.parse(policyConfigForStackFile(path.join(__dirname, "..", "stacks", "Pulumi.prod.yaml")));
    expect(Object.keys(cfg).sort()).toEqual(POLICY_RULES.map((r) => r.name).sort());
    for (const v of Object.values(cfg)) expect(v).toEqual({ environment: "prod", spotOptInNodeGroups: [] });
    expect(policyPackConfigFor(dev, POLICY_RULES)["images-pinned"]).toEqual({
      environment: "dev",
      spotOptInNodeGroups: [],
    });
  });

  it("lists node groups that set allowSpotInProd", () => {
    const file = path.join(__dirname, "..", "stacks", "Pulumi.prod.yaml");
    const doc = YAML.parse(fs.readFileSync(file, "utf8"));
    Object.assign(doc.config["retrieval-stack:gpuNodeGroups"].l4, { capacityType: "SPOT", allowSpotInProd: true });
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rs-policy-")), "Pulumi.prod.yaml");
    fs.writeFileSync(tmp, YAML.stringify(doc));
    const cfg = JSON.parse(policyConfigForStackFile(tmp));
    expect(cfg["prod-node-groups-not-spot-only"]).toEqual({ environment: "prod", spotOptInNodeGroups: ["l4"] });
  });
});
