import { describe, expect, it } from "vitest";
import { ConfigError, formatProblems } from "../components/config";
import { STACKS, parseStack, problemsOf } from "./config-helpers";

describe("every stack file parses", () => {
  it.each(STACKS)("%s", (stack) => {
    const config = parseStack(stack);
    expect(config.environment).toBe(stack);
    expect(config.models.length).toBeGreaterThan(0);
  });

  it("cloud stacks use the shipped models; prod also gte-base", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const ids = parseStack(stack).models.map((m) => m.model);
      expect(ids).toContain("BAAI/bge-large-zh-v1.5");
      expect(ids).toContain("Qwen/Qwen3-Reranker-4B");
    }
    expect(parseStack("prod").models.map((m) => m.model)).toContain("thenlper/gte-base");
  });

  it("staging and prod run every model with at least two replicas", () => {
    for (const stack of ["staging", "prod"])
      for (const m of parseStack(stack).models) expect(m.replicas.min).toBeGreaterThanOrEqual(2);
  });

  it("accepts sections given as JSON strings, as `pulumi config set` stores them", () => {
    const config = parseStack("local", (raw) => {
      raw.models = JSON.stringify(raw.models);
    });
    expect(config.models[0]?.name).toBe("bge-small-zh");
  });
});

interface BadCase {
  readonly name: string;
  readonly stack: (typeof STACKS)[number];
  readonly mutate: (raw: any, secretKeys: Set<string>) => void;
  /** The YAML path the error must name. */
  readonly path: string;
  /** Fragments the message must contain (the problem and the fix). */
  readonly says: readonly (string | RegExp)[];
}

const qwenOnL4 = (raw: any) => {
  raw.gpuNodeGroups.l40s.instanceTypes = ["g6.xlarge"];
};

const BAD: readonly BadCase[] = [
  {
    name: "environment missing",
    stack: "local",
    mutate: (r) => delete r.environment,
    path: "retrieval-stack:environment",
    says: ["is required", '"prod"'],
  },
  {
    name: "unknown environment",
    stack: "local",
    mutate: (r) => (r.environment = "production"),
    path: "retrieval-stack:environment",
    says: ['"local"', '"prod"'],
  },
  {
    name: "misspelt top-level key",
    stack: "local",
    mutate: (r) => (r.modles = []),
    path: "retrieval-stack:modles",
    says: ["unknown config key", "models"],
  },
  {
    name: "unknown cluster mode",
    stack: "local",
    mutate: (r) => (r.cluster.mode = "gke"),
    path: "retrieval-stack:cluster.mode",
    says: ["not a known choice", '"existing"', '"eks"'],
  },
  {
    name: "no models",
    stack: "local",
    mutate: (r) => (r.models = []),
    path: "retrieval-stack:models",
    says: ["at least one model"],
  },
  {
    name: "model name not a DNS label",
    stack: "local",
    mutate: (r) => (r.models[0].name = "BGE_Small"),
    path: "retrieval-stack:models[0].name",
    says: ["DNS label"],
  },
  {
    name: "duplicate model names",
    stack: "local",
    mutate: (r) => (r.models[1].name = r.models[0].name),
    path: "retrieval-stack:models[1].name",
    says: ["already used by models[0]", "unique name"],
  },
  {
    name: "unknown engine",
    stack: "local",
    mutate: (r) => (r.models[0].engine = "triton"),
    path: "retrieval-stack:models[0].engine",
    says: ['"vllm"', '"sglang"', '"tei"'],
  },
  {
    name: "unknown task",
    stack: "local",
    mutate: (r) => (r.models[0].task = "classify"),
    path: "retrieval-stack:models[0].task",
    says: ['"embed"', '"rerank"'],
  },
  {
    name: "model id without organisation",
    stack: "local",
    mutate: (r) => (r.models[0].model = "bge-small-zh-v1.5"),
    path: "retrieval-stack:models[0].model",
    says: ['"org/name"'],
  },
  {
    name: "replicas min above max",
    stack: "local",
    mutate: (r) => (r.models[0].replicas = { min: 3, max: 2 }),
    path: "retrieval-stack:models[0].replicas.min",
    says: ["above replicas.max", "min <= max"],
  },
  {
    name: "prod model with one replica",
    stack: "prod",
    mutate: (r) => (r.models[0].replicas.min = 1),
    path: "retrieval-stack:models[0].replicas.min",
    says: ["prod needs at least 2 replicas", "set replicas.min to 2"],
  },
  {
    name: "GPU node group that does not exist",
    stack: "prod",
    mutate: (r) => (r.models[0].gpu.nodeGroup = "a100"),
    path: "retrieval-stack:models[0].gpu.nodeGroup",
    says: ["not a GPU node group", '"l4"', '"l40s"'],
  },
  {
    name: "model not in the catalogue and no spec",
    stack: "local",
    mutate: (r) => (r.models[0].model = "acme/secret-embedder"),
    path: "retrieval-stack:models[0].model",
    says: ["not in the model catalogue", '"spec"'],
  },
  {
    name: "embedding model used as a reranker",
    stack: "local",
    mutate: (r) => (r.models[0].task = "rerank"),
    path: "retrieval-stack:models[0].task",
    says: ["is a embed model", "set task: embed"],
  },
  {
    name: "dimensions on a non-Matryoshka model",
    stack: "local",
    mutate: (r) => (r.models[0].dimensions = 256),
    path: "retrieval-stack:models[0].dimensions",
    says: ["Matryoshka", 'remove "dimensions"'],
  },
  {
    name: "maxModelLen above the model maximum",
    stack: "local",
    mutate: (r) => (r.models[0].maxModelLen = 8192),
    path: "retrieval-stack:models[0].maxModelLen",
    says: ["maximum of 512 tokens", "<= 512"],
  },
  {
    name: "Qwen3-Reranker-4B at 32k on a 24 GB GPU",
    stack: "prod",
    mutate: qwenOnL4,
    path: "retrieval-stack:models[2].maxModelLen",
    says: [/needs ~\d+(\.\d)? GiB/, "L4", "smaller maxModelLen"],
  },
  {
    name: "more GPUs than the instance has",
    stack: "prod",
    mutate: (r) => (r.models[0].gpu.count = 4),
    path: "retrieval-stack:models[0].gpu.count",
    says: ["1 GPU(s) per node", "<= 1"],
  },
  {
    name: "image tag latest",
    stack: "local",
    mutate: (r) => (r.models[0].engineVersion = "latest"),
    path: "retrieval-stack:models[0].engineVersion",
    says: ['not "latest"', "pin"],
  },
  {
    name: "misspelt model key",
    stack: "local",
    mutate: (r) => (r.models[0].replica = 2),
    path: "retrieval-stack:models[0].replica",
    says: ["unknown key", 'did you mean "replicas"'],
  },
  {
    name: "CPU quantity that Kubernetes cannot read",
    stack: "local",
    mutate: (r) => (r.models[0].resources.cpu = "2 cores"),
    path: "retrieval-stack:models[0].resources.cpu",
    says: ['"500m"'],
  },
  {
    name: "unknown GPU instance type",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.instanceTypes = ["g9.mega"]),
    path: "retrieval-stack:gpuNodeGroups.l4.instanceTypes[0]",
    says: ["not in the GPU instance catalogue", "g6.xlarge"],
  },
  {
    name: "node group min above max",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.minSize = 12),
    path: "retrieval-stack:gpuNodeGroups.l4.minSize",
    says: ["above maxSize", "minSize <= maxSize"],
  },
  {
    name: "desired size outside [min, max]",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.desiredSize = 20),
    path: "retrieval-stack:gpuNodeGroups.l4.desiredSize",
    says: ["within [minSize 3, maxSize 9]"],
  },
  {
    name: "spot GPUs in prod without opt-in",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.capacityType = "SPOT"),
    path: "retrieval-stack:gpuNodeGroups.l4.capacityType",
    says: ["reclaimed", "allowSpotInProd: true"],
  },
  {
    name: "time-slicing and MIG together",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.sharing = { timeSlicingReplicas: 4, migStrategy: "single" }),
    path: "retrieval-stack:gpuNodeGroups.l4.sharing",
    says: ["exclusive"],
  },
  {
    name: "MIG on a GPU without MIG",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.sharing = { migStrategy: "single" }),
    path: "retrieval-stack:gpuNodeGroups.l4.sharing.migStrategy",
    says: ["do not support MIG", "migStrategy: none"],
  },
  {
    name: "zero availability zones",
    stack: "prod",
    mutate: (r) => (r.cluster.availabilityZones = []),
    path: "retrieval-stack:cluster.availabilityZones",
    says: ["is empty", "us-east-1a"],
  },
  {
    name: "too few zones for prod",
    stack: "prod",
    mutate: (r) => (r.cluster.availabilityZones = ["us-east-1a"]),
    path: "retrieval-stack:cluster.availabilityZones",
    says: ["at least 3 zones"],
  },
  {
    name: "zone of another region",
    stack: "prod",
    mutate: (r) => (r.cluster.availabilityZones[2] = "eu-west-1a"),
    path: "retrieval-stack:cluster.availabilityZones[2]",
    says: ["not a zone of region us-east-1"],
  },
  {
    name: "local stack that would create an EKS cluster",
    stack: "local",
    mutate: (r) =>
      (r.cluster = {
        mode: "eks",
        name: "x-local",
        region: "us-east-1",
        kubernetesVersion: "1.33",
        availabilityZones: ["us-east-1a"],
        systemNodeGroup: { instanceType: "m7i.large", minSize: 1, maxSize: 1 },
      }),
    path: "retrieval-stack:cluster.mode",
    says: ["set cluster.mode: existing"],
  },
  {
    name: "cloud stack without a host",
    stack: "prod",
    mutate: (r) => delete r.ingress.host,
    path: "retrieval-stack:ingress.host",
    says: ["set ingress.host"],
  },
  {
    name: "prod over plain HTTP",
    stack: "prod",
    mutate: (r) => (r.ingress.tls = { mode: "none" }),
    path: "retrieval-stack:ingress.tls.mode",
    says: ["plain HTTP", "acme"],
  },
  {
    name: "Let's Encrypt behind an internal load balancer",
    stack: "prod",
    mutate: (r) => (r.ingress.exposure = "internal"),
    path: "retrieval-stack:ingress.exposure",
    says: ["would never be issued", "privateCa"],
  },
  {
    name: "Let's Encrypt behind a source allow-list",
    stack: "prod",
    mutate: (r) => (r.ingress.allowedSourceCidrs = ["10.0.0.0/8"]),
    path: "retrieval-stack:ingress.allowedSourceCidrs",
    says: ["does not publish", "no allowedSourceCidrs"],
  },
  {
    name: "ACME without an e-mail",
    stack: "prod",
    mutate: (r) => delete r.ingress.tls.email,
    path: "retrieval-stack:ingress.tls.email",
    says: ["is required"],
  },
  {
    name: "rate limit of zero",
    stack: "prod",
    mutate: (r) => (r.ingress.rateLimit.requestsPerSecond = 0),
    path: "retrieval-stack:ingress.rateLimit.requestsPerSecond",
    says: [/>0|positive|greater than 0/i],
  },
  {
    name: "rate limit for a model that does not exist",
    stack: "prod",
    mutate: (r) => (r.ingress.modelRateLimits = { "no-such-model": { requestsPerSecond: 5 } }),
    path: "retrieval-stack:ingress.modelRateLimits.no-such-model",
    says: ["not the name of a model"],
  },
  {
    name: "cloud stack without API keys",
    stack: "prod",
    mutate: (r) => delete r.apiKeys,
    path: "retrieval-stack:apiKeys",
    says: ["pulumi config set --secret apiKeys"],
  },
  {
    name: "API keys in plain text",
    stack: "prod",
    mutate: (_r, secret) => secret.delete("apiKeys"),
    path: "retrieval-stack:apiKeys",
    says: ["plain text", "pulumi config set --secret apiKeys"],
  },
  {
    name: "receiver without its secret URL",
    stack: "prod",
    mutate: (r) => delete r.alertReceiverUrls.wecom,
    path: "retrieval-stack:observability.receivers[0].urlSecretKey",
    says: ["alertReceiverUrls", "--secret --path 'alertReceiverUrls.wecom'"],
  },
  {
    name: "receiver URL over plain HTTP (Alertmanager and the chat bridge may reach only TCP 443)",
    stack: "prod",
    mutate: (r) => (r.alertReceiverUrls.wecom = "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"),
    path: "retrieval-stack:alertReceiverUrls.wecom",
    says: ["https", "443", "egress"],
  },
  {
    name: "receiver URL on another port",
    stack: "prod",
    mutate: (r) => (r.alertReceiverUrls.wecom = "https://hooks.example.com:8443/alert"),
    path: "retrieval-stack:alertReceiverUrls.wecom",
    says: ["port 8443", "443"],
  },
  {
    name: "duplicate receiver names",
    stack: "prod",
    mutate: (r) => (r.observability.receivers[1].name = "oncall-wecom"),
    path: "retrieval-stack:observability.receivers[1].name",
    says: ["unique name"],
  },
  {
    name: "Prometheus on an emptyDir in prod",
    stack: "prod",
    mutate: (r) => (r.observability.storageGiB = 0),
    path: "retrieval-stack:observability.storageGiB",
    says: ["emptyDir", "volume size"],
  },
  {
    name: "bad Prometheus duration",
    stack: "prod",
    mutate: (r) => (r.observability.retention = "30 days"),
    path: "retrieval-stack:observability.retention",
    says: ['"15d"'],
  },
];

describe("bad stack configs fail with the path, the value and the fix", () => {
  it.each(BAD)("$name", ({ stack, mutate, path, says }) => {
    const problems = problemsOf(stack, mutate);
    const p = problems.find((x) => x.path === path);
    expect(
      p,
      `no problem at ${path}; got:\n${problems.map((x) => `${x.path}: ${x.message}`).join("\n")}`,
    ).toBeDefined();
    for (const s of says)
      expect(p!.message).toMatch(typeof s === "string" ? new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : s);
  });

  it("has at least 30 distinct cases", () => {
    expect(new Set(BAD.map((b) => b.path)).size).toBeGreaterThanOrEqual(30);
  });
});

describe("error reporting", () => {
  it("lists every problem at once, across sections", () => {
    const problems = problemsOf("prod", (r) => {
      r.environment = "prod";
      r.models[0].engine = "triton";
      r.gpuNodeGroups.l4.minSize = 12;
      delete r.ingress.host;
      r.observability.retention = "forever";
    });
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "retrieval-stack:models[0].engine",
        "retrieval-stack:gpuNodeGroups.l4.minSize",
        "retrieval-stack:ingress.host",
        "retrieval-stack:observability.retention",
      ]),
    );
  });

  it("names the stack file, the count, and that nothing was created", () => {
    let error: unknown;
    try {
      parseStack("local", (r) => (r.models[0].engine = "triton"));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^Invalid stacks\/Pulumi\.local\.yaml: 1 problem, nothing was created\./);
    expect((error as Error).message).toContain('retrieval-stack:models[0].engine = "triton"');
  });

  it("never echoes a secret value", () => {
    const problems = problemsOf("prod", (r) => (r.apiKeys = ["short-key"]));
    const text = formatProblems(problems, "x");
    expect(text).toContain("retrieval-stack:apiKeys[0]");
    expect(text).toContain("at least 16 characters");
    expect(text).not.toContain("short-key");
  });
});
