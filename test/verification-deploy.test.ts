import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OfflineRuntime } from "../plan/offline";
import { redactSecrets } from "../plan/redact";
import { ModelService } from "../components/serving/model-service";
import { MODELS_NAMESPACE, VERIFIER_POD_LABEL } from "../components/k8s/namespaces";
import { IMAGE_PULL_SECONDS, KEDA_POLLING_SECONDS, NODE_PROVISION_SECONDS } from "../components/serving/autoscaling";
import { VerificationSchema, type ModelConfig, type VerificationConfig } from "../components/config";
import { Verification, gatewayModelsOf, verificationHash } from "../components/verification";
import { runJob } from "../images/verifier/src/job";
import { localVerificationProvider } from "../components/verification/provider";
import type { LocalVerificationInputs } from "../components/contracts/stack-outputs";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { SHIPPED_MODELS, groupOf, parseModel } from "./fixtures/serving";
import { STACKS, parseStack, problemsOf } from "./config-helpers";

// ---------------------------------------------------------------------------------------------------------
// The code that runs inside `pulumi up`, called directly against a correct and a failing local server.
// ---------------------------------------------------------------------------------------------------------

let good: FakeServer;
let bad: FakeServer;
let dir: string;
const options = {
  requests: 6,
  concurrency: 2,
  timeoutSeconds: 20,
  requestTimeoutSeconds: 3,
  maxRetries: 1,
  quality: { enabled: false, minMrrAt10: 0.75 },
};
const target = (url: string, extra: object = {}) => ({
  name: "bge-small-zh",
  url,
  dialect: "tei",
  task: "embed" as const,
  servedModel: "bge-small-zh",
  modelId: "BAAI/bge-small-zh-v1.5",
  dims: 512,
  normalized: true,
  sloP99Ms: 2000,
  ...extra,
});

beforeAll(async () => {
  [good, bad] = await Promise.all([
    startFakeServer({ dialect: "tei", dims: 512 }),
    startFakeServer({ dialect: "tei", dims: 512, fault: "nan" }),
  ]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-deploy-"));
});
afterAll(async () => {
  await Promise.all([good?.close(), bad?.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the in-cluster Job's entry point", () => {
  function jobEnv(name: string, config: unknown, extra: NodeJS.ProcessEnv = {}) {
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config));
    return { VERIFY_CONFIG_FILE: file, VERIFY_TERMINATION_LOG: path.join(dir, `${name}.termination`), ...extra };
  }

  it("exits 0 against a correct engine and says so in the termination message", async () => {
    const lines: string[] = [];
    const env = jobEnv("ok", { options, targets: [target(good.url)] }, { VERIFY_API_KEY: "" });
    expect(await runJob({ env, log: (l) => lines.push(l) })).toBe(0);
    expect(lines.join("\n")).toMatch(/verification passed: 1 model\(s\)/);
    expect(fs.readFileSync(env.VERIFY_TERMINATION_LOG, "utf8")).toBe("all checks passed");
    // The full report is in the log as one JSON line, for log pipelines.
    expect(JSON.parse(lines.find((l) => l.startsWith("REPORT_JSON "))!.slice(12))).toMatchObject({ pass: true });
  });

  it("exits 1 against a failing engine; the termination message names the model, the check, expected and got", async () => {
    const env = jobEnv("bad", { options, targets: [target(bad.url)] });
    expect(await runJob({ env, log: () => {} })).toBe(1);
    expect(fs.readFileSync(env.VERIFY_TERMINATION_LOG, "utf8")).toMatch(
      /^bge-small-zh embed\.finite: expected only finite numbers; got 2 non-finite value\(s\), first NaN at vector 0, position 17\n/,
    );
  });

  it("sends the API key from the Secret's environment variable", async () => {
    const keyed = await startFakeServer({ dialect: "tei", dims: 512, apiKey: "job-key-0123456789abcdef" });
    try {
      expect(
        await runJob({
          env: jobEnv(
            "keyed",
            { options, targets: [target(keyed.url)] },
            { VERIFY_API_KEY: "job-key-0123456789abcdef" },
          ),
          log: () => {},
        }),
      ).toBe(0);
    } finally {
      await keyed.close();
    }
  });

  it("exits 2 with a readable message when the ConfigMap is not what it expects", async () => {
    const lines: string[] = [];
    const env = jobEnv("broken", { targets: [] });
    expect(await runJob({ env, log: (l) => lines.push(l) })).toBe(2);
    expect(lines[0]).toMatch(/verification config .*broken\.json unreadable: options: /);
  });
});

describe("the local mode's dynamic provider (create/update run the checks)", () => {
  const inputs = (url: string, hash = "abc123"): LocalVerificationInputs => ({
    targets: [target(url)],
    options,
    targetsHash: hash,
  });

  it("create succeeds against a correct engine", async () => {
    const result = await localVerificationProvider.create(inputs(good.url));
    expect(result.id).toBe("verification-abc123");
    expect(result.outs).toMatchObject({
      targetsHash: "abc123",
      summary: expect.stringMatching(/^1 model\(s\), \d+ checks passed in \d+ ms$/),
    });
  });

  it("create and update throw with the report against a failing engine: the deploy fails", async () => {
    await expect(localVerificationProvider.create(inputs(bad.url))).rejects.toThrow(
      /post-deploy verification failed:\nbge-small-zh embed\.finite: expected only finite numbers; got 2 non-finite value\(s\)/,
    );
    await expect(localVerificationProvider.update!("id", inputs(good.url), inputs(bad.url, "def456"))).rejects.toThrow(
      /check +\| expected +\| got/,
    );
  });

  it("re-runs only when what is verified changed", async () => {
    expect((await localVerificationProvider.diff!("id", inputs(good.url), inputs(good.url))).changes).toBe(false);
    expect((await localVerificationProvider.diff!("id", inputs(good.url), inputs(good.url, "other"))).changes).toBe(
      true,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Under mocks: the verification resources come after every model and carry the right targets.
// ---------------------------------------------------------------------------------------------------------

interface Recorded {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly deps: string[];
  readonly inputs: Record<string, any>;
}

/** The program under the offline runtime, with the dependencies of every registration (what the engine orders by). */
async function renderWithDependencies(build: () => void, stack = "test"): Promise<Recorded[]> {
  const runtime = await OfflineRuntime.start({ stack });
  build();
  await runtime.settle();
  return runtime.resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parentUrn,
    deps: [...r.dependencies],
    inputs: r.inputs as Record<string, any>,
  }));
}

const MODELS = [SHIPPED_MODELS.bgeLargeZh, SHIPPED_MODELS.qwen3Reranker, SHIPPED_MODELS.gteBase].map(parseModel);

function program(
  verification: Partial<VerificationConfig>,
  opts: {
    models?: ModelConfig[];
    environment?: "dev" | "local" | "prod";
    apiKey?: boolean;
    gateway?: { publicUrl?: string; models?: string[]; apiKey?: boolean };
  } = {},
) {
  return () => {
    const provider = new k8s.Provider("k8s", {});
    const models = (opts.models ?? MODELS).map(
      (model) =>
        new ModelService(model.name, {
          provider,
          environment: opts.environment ?? "dev",
          namespace: MODELS_NAMESPACE,
          model,
          gpuNodeGroup: groupOf(model),
          monitoring: false,
          autoscaling: false,
        }),
    );
    new Verification(
      "verification",
      {
        provider,
        environment: opts.environment ?? "dev",
        verification: VerificationSchema.parse(verification),
        namespace: MODELS_NAMESPACE,
        targets: models.map((m, i) => ({
          model: (opts.models ?? MODELS)[i]!,
          url: m.url,
          publicUrl: `https://retrieval.example.com/models/${m.modelName}/v1/${(opts.models ?? MODELS)[i]!.task === "embed" ? "embeddings" : "rerank"}`,
        })),
        apiKey: opts.apiKey === false ? undefined : pulumi.secret("sk-offline-test-key-0123456789"),
        ...(opts.gateway
          ? {
              gateway: {
                url: "http://retrieval-gateway.retrieval.svc.cluster.local:8080",
                publicUrl: opts.gateway.publicUrl,
                models: opts.gateway.models,
                apiKey: opts.gateway.apiKey ? pulumi.secret("gw-offline-test-key-0123456789") : undefined,
              },
            }
          : {}),
      },
      { dependsOn: models },
    );
  };
}

/** Every resource under a component (by parent chain). */
function descendants(records: Recorded[], urn: string): Recorded[] {
  const out: Recorded[] = [];
  const queue = [urn];
  while (queue.length) {
    const p = queue.shift();
    for (const r of records.filter((x) => x.parent === p)) {
      out.push(r);
      queue.push(r.urn);
    }
  }
  return out;
}

function expectAfterEveryModel(records: Recorded[], resource: Recorded) {
  for (const model of records.filter((r) => r.type === "retrieval-stack:serving:ModelService")) {
    const modelUrns = new Set(descendants(records, model.urn).map((r) => r.urn));
    expect(
      resource.deps.some((d) => modelUrns.has(d)),
      `${resource.name} must wait for model ${model.name}`,
    ).toBe(true);
  }
}

describe("under mocks", () => {
  it("job mode: a Job after every model, named by the hash, with the targets in its ConfigMap and the key in a Secret", async () => {
    const records = await renderWithDependencies(program({ mode: "job" }));
    const job = records.find((r) => r.type === "kubernetes:batch/v1:Job")!;
    expect(job).toBeDefined();
    expectAfterEveryModel(records, job);
    const hash = verificationHash(MODELS, VerificationSchema.parse({ mode: "job" }));
    expect(job.inputs.metadata).toMatchObject({
      name: `verify-${hash}`,
      namespace: "retrieval",
      annotations: { "pulumi.com/replaceUnready": "true" },
    });
    const pod = job.inputs.spec.template.spec;
    expect(pod.containers[0].image).toMatch(
      /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/verification-verifier@sha256:0{64}$/,
    );
    expect(job.inputs.spec.template.metadata.labels["retrieval-stack.io/engine-client"]).toBe("true"); // admitted by the engines' NetworkPolicy
    expect(job.inputs.spec.backoffLimit).toBe(0);

    const config = records.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === "verification-config")!;
    const json = JSON.parse(config.inputs.data["verification.json"]);
    expect(json.targets).toEqual([
      expect.objectContaining({
        name: "bge-large-zh",
        dialect: "sglang",
        task: "embed",
        dims: 1024,
        normalized: true,
        url: "http://bge-large-zh.retrieval.svc.cluster.local",
        sloP99Ms: 300,
      }),
      expect.objectContaining({
        name: "qwen3-reranker",
        dialect: "vllm",
        task: "rerank",
        servedModel: "qwen3-reranker",
        sloP99Ms: 2000,
      }),
      expect.objectContaining({ name: "gte-base", dialect: "kserve", task: "embed", dims: 768 }),
    ]);
    expect(json.targets.every((t: object) => !("publicUrl" in t))).toBe(true);
    const secret = records.find((r) => r.type === "kubernetes:core/v1:Secret")!;
    expect(redactSecrets(secret.inputs)).toMatchObject({ stringData: { VERIFY_API_KEY: "[secret]" } });

    const image = records.find((r) => r.type === "docker:index/image:Image")!;
    expect(image.inputs.build).toMatchObject({
      dockerfile: expect.stringMatching(/images\/verifier\/Dockerfile$/),
      platform: "linux/amd64",
    });
    expect(fs.existsSync(image.inputs.build.dockerfile)).toBe(true);
  });

  it("job mode with a gateway: every model again through the gateway URL, after the engines, with the gateway key", async () => {
    const records = await renderWithDependencies(program({ mode: "job" }, { gateway: { apiKey: true } }));
    const config = records.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === "verification-config")!;
    const json = JSON.parse(config.inputs.data["verification.json"]);
    expect(json.targets.map((t: { name: string; kind: string }) => `${t.kind}:${t.name}`)).toEqual([
      "engine:bge-large-zh",
      "engine:qwen3-reranker",
      "engine:gte-base",
      "gateway:bge-large-zh via gateway",
      "gateway:qwen3-reranker via gateway",
      "gateway:gte-base via gateway",
    ]);
    expect(json.targets[3]).toMatchObject({
      url: "http://retrieval-gateway.retrieval.svc.cluster.local:8080",
      dialect: "openai",
      servedModel: "bge-large-zh",
      dims: 1024,
      normalized: true,
      sloP99Ms: 300,
    });
    expect(json.targets.slice(3).every((t: object) => !("wakeTimeoutSeconds" in t))).toBe(true);
    const secret = records.find((r) => r.type === "kubernetes:core/v1:Secret")!;
    expect(redactSecrets(secret.inputs)).toMatchObject({
      stringData: { VERIFY_API_KEY: "[secret]", VERIFY_GATEWAY_API_KEY: "[secret]" },
    });
    // The Job's deadline grows by one checks budget per gateway target.
    const job = records.find((r) => r.type === "kubernetes:batch/v1:Job")!;
    const without = (await renderWithDependencies(program({ mode: "job" }))).find(
      (r) => r.type === "kubernetes:batch/v1:Job",
    )!;
    expect(job.inputs.spec.activeDeadlineSeconds - without.inputs.spec.activeDeadlineSeconds).toBe(
      3 * VerificationSchema.parse({}).timeoutSeconds,
    );
    // A different gateway model list is a different verification: the Job re-runs.
    expect(job.inputs.metadata.name).not.toBe(without.inputs.metadata.name);
  });

  it("gateway.models picks the models; a name that is not verified is an error naming it", async () => {
    const records = await renderWithDependencies(program({ mode: "job" }, { gateway: { models: ["qwen3-reranker"] } }));
    const config = records.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === "verification-config")!;
    const names = JSON.parse(config.inputs.data["verification.json"]).targets.map((t: { name: string }) => t.name);
    expect(names).toEqual(["bge-large-zh", "qwen3-reranker", "gte-base", "qwen3-reranker via gateway"]);
    expect(() => gatewayModelsOf({ url: "http://gw", models: ["qwen3-rerank"] }, MODELS)).toThrow(
      /gateway\.models names "qwen3-rerank", which is not among the verified models \(bge-large-zh, qwen3-reranker, gte-base\)/,
    );
  });

  it("local mode with a gateway: its public base URL, no route; without a public URL it is not checked", async () => {
    const records = await renderWithDependencies(
      program({ mode: "local" }, { gateway: { publicUrl: "https://retrieval.example.com" } }),
    );
    const local = records.find((r) => r.type === "pulumi-nodejs:dynamic/verification:LocalVerification")!;
    const targets = (redactSecrets(local.inputs) as Record<string, any>).targets;
    expect(targets.filter((t: { kind: string }) => t.kind === "gateway")).toEqual([
      expect.objectContaining({ name: "bge-large-zh via gateway", url: "https://retrieval.example.com" }),
      expect.objectContaining({ name: "qwen3-reranker via gateway", url: "https://retrieval.example.com" }),
      expect.objectContaining({ name: "gte-base via gateway", url: "https://retrieval.example.com" }),
    ]);
    expect(targets.filter((t: { kind: string; route?: string }) => t.kind === "gateway" && t.route)).toEqual([]);
    const hidden = await renderWithDependencies(program({ mode: "local" }, { gateway: {} }));
    const hiddenLocal = hidden.find((r) => r.type === "pulumi-nodejs:dynamic/verification:LocalVerification")!;
    expect(
      (redactSecrets(hiddenLocal.inputs) as Record<string, any>).targets.some(
        (t: { kind: string }) => t.kind === "gateway",
      ),
    ).toBe(false);
  });

  it("the Job is renamed (re-run) when a model or engine changes, not when replicas change", () => {
    const v = VerificationSchema.parse({});
    const base = verificationHash(MODELS, v);
    const scaled = MODELS.map((m, i) => (i === 0 ? { ...m, replicas: { min: 3, max: 9 } } : m));
    const upgraded = MODELS.map((m, i) => (i === 0 ? { ...m, engineVersion: "v0.5.0" } : m));
    const otherEngine = MODELS.map((m, i) => (i === 0 ? { ...m, engine: "tei" as const } : m));
    expect(verificationHash(scaled, v)).toBe(base);
    expect(verificationHash(upgraded, v)).not.toBe(base);
    expect(verificationHash(otherEngine, v)).not.toBe(base);
    expect(verificationHash(MODELS, VerificationSchema.parse({ requests: 7 }))).not.toBe(base);
  });

  it("a configured image skips the build", async () => {
    const records = await renderWithDependencies(
      program(
        { mode: "job", image: "ghcr.io/acme/retrieval-verifier:0.1.0" },
        { environment: "local", models: [parseModel(SHIPPED_MODELS.bgeSmallZhCpu)] },
      ),
    );
    expect(
      records.find((r) => r.type === "kubernetes:batch/v1:Job")!.inputs.spec.template.spec.containers[0].image,
    ).toBe("ghcr.io/acme/retrieval-verifier:0.1.0");
    expect(records.some((r) => r.type.startsWith("docker:") || r.type.startsWith("aws:"))).toBe(false);
  });

  it("local mode: one dynamic resource after every model, calling the public routes with the key as a secret", async () => {
    const records = await renderWithDependencies(program({ mode: "local" }));
    const local = records.find((r) => r.type === "pulumi-nodejs:dynamic/verification:LocalVerification")!;
    expect(local).toBeDefined();
    expectAfterEveryModel(records, local);
    expect(records.some((r) => r.type === "kubernetes:batch/v1:Job")).toBe(false);
    const inputs = redactSecrets(local.inputs) as Record<string, any>;
    expect(inputs.apiKey).toBe("[secret]");
    expect(inputs.targets[0]).toMatchObject({
      name: "bge-large-zh",
      url: "https://retrieval.example.com",
      route: "/models/bge-large-zh/v1/embeddings",
      dims: 1024,
    });
    expect(inputs.targets[1]).toMatchObject({ route: "/models/qwen3-reranker/v1/rerank", task: "rerank" });
    expect(inputs.targetsHash).toBe(verificationHash(MODELS, VerificationSchema.parse({ mode: "local" })));
    // The serialised provider captures a module path, not the library: small, and loads the checks at run time.
    const serialized = String(local.inputs.__provider);
    expect(serialized).toContain("run-local");
    expect(serialized.length).toBeLessThan(20_000);
  });

  it("mode auto (the default): the Job in cloud stacks, local mode elsewhere", async () => {
    const cloud = await renderWithDependencies(program({}));
    expect(cloud.some((r) => r.type === "kubernetes:batch/v1:Job")).toBe(true);
    const local = await renderWithDependencies(
      program({}, { environment: "local", models: [parseModel(SHIPPED_MODELS.bgeSmallZhCpu)] }),
    );
    expect(local.some((r) => r.type === "kubernetes:batch/v1:Job")).toBe(false);
    expect(local.some((r) => r.type === "pulumi-nodejs:dynamic/verification:LocalVerification")).toBe(true);
    expect(parseStack("local", (raw) => delete raw.verification).verification.mode).toBe("auto");
  });

  it("prod: after the in-cluster Job, every model again through the public path (NLB, TLS, the ingress's routes and keys) from the machine running `pulumi up`", async () => {
    const records = await renderWithDependencies(program({ mode: "job" }, { environment: "prod" }));
    const job = records.find((r) => r.type === "kubernetes:batch/v1:Job")!;
    const local = records.find((r) => r.type === "pulumi-nodejs:dynamic/verification:LocalVerification")!;
    expect(job).toBeDefined();
    expect(local, "no public-path verification in prod").toBeDefined();
    expect(local.deps).toContain(job.urn);
    const inputs = redactSecrets(local.inputs) as Record<string, any>;
    expect(inputs.targets[0]).toMatchObject({
      url: "https://retrieval.example.com",
      route: "/models/bge-large-zh/v1/embeddings",
    });
    // Elsewhere the Job alone, unless asked; and prod may opt out only explicitly.
    const dev = await renderWithDependencies(program({ mode: "job" }));
    expect(dev.some((r) => r.type === "pulumi-nodejs:dynamic/verification:LocalVerification")).toBe(false);
    const devPublic = await renderWithDependencies(program({ mode: "job", publicPath: true }));
    expect(devPublic.some((r) => r.type === "pulumi-nodejs:dynamic/verification:LocalVerification")).toBe(true);
    expect(VerificationSchema.parse({}).publicPath).toBeUndefined();
    expect(parseStack("prod").verification.publicPath).not.toBe(false);
  });

  it("mode off creates nothing that runs checks", async () => {
    const records = await renderWithDependencies(program({ mode: "off" }));
    expect(
      records.filter((r) => r.type === "kubernetes:batch/v1:Job" || r.type.startsWith("pulumi-nodejs:dynamic")),
    ).toEqual([]);
  });
});

describe("config rules", () => {
  it("job mode without a registry or an image is refused, naming the fix", () => {
    const problems = problemsOf("local", (raw) => (raw.verification = { mode: "job" }));
    expect(problems).toContainEqual({
      path: "retrieval-stack:verification.mode",
      value: "job",
      message:
        '"job" needs an image the cluster can pull, and the local stack has no registry to push one to. Fix: set verification.image to a pinned verifier image (built from images/verifier), images.source to "registry" or "prebuilt", or verification.mode to "local".',
    });
    expect(
      parseStack("local", (raw) => (raw.verification = { mode: "job", image: "ghcr.io/acme/retrieval-verifier:0.1.0" }))
        .verification.image,
    ).toBe("ghcr.io/acme/retrieval-verifier:0.1.0");
  });

  it("an unpinned verifier image is refused", () => {
    const problems = problemsOf(
      "local",
      (raw) => (raw.verification = { mode: "job", image: "ghcr.io/acme/retrieval-verifier:latest" }),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`).join("\n")).toMatch(
      /verification\.image: must name a fixed tag or digest/,
    );
  });

  it("every shipped stack verifies its models (none is off)", () => {
    for (const stack of STACKS) expect(parseStack(stack).verification.mode).not.toBe("off");
  });
});

// ---------------------------------------------------------------------------------------------------------
// A dev model that scales to zero: the verification Job is the demand that wakes it, and its budgets cover the wait.
// ---------------------------------------------------------------------------------------------------------

/** The program under the offline runtime, also recording each registration's customTimeouts (what Pulumi awaits). */
async function renderWithTimeouts(
  build: () => void,
): Promise<{ records: Recorded[]; timeouts: Map<string, { create: string; update: string }> }> {
  const runtime = await OfflineRuntime.start({ stack: "test" });
  const timeouts = new Map<string, { create: string; update: string }>();
  const monitor = (
    require("@pulumi/pulumi/runtime/settings") as { getMonitor(): { registerResource(req: any, cb: unknown): unknown } }
  ).getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: unknown) => {
    const t = req.getCustomtimeouts?.();
    if (t) timeouts.set(req.getName(), { create: t.getCreate(), update: t.getUpdate() });
    return register(req, cb);
  };
  build();
  await runtime.settle();
  const records = runtime.resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parentUrn,
    deps: [...r.dependencies],
    inputs: r.inputs as Record<string, any>,
  }));
  return { records, timeouts };
}

describe("a scale-to-zero model outside its working hours", () => {
  const activeHours = { timezone: "Asia/Shanghai", start: "0 8 * * 1-5", end: "0 20 * * 1-5" };
  const sleepy = parseModel({
    ...SHIPPED_MODELS.bgeLargeZh,
    replicas: { min: 0, max: 2 },
    autoscaling: { activeHours },
  });
  const awake = parseModel(SHIPPED_MODELS.qwen3Reranker);
  const verification = VerificationSchema.parse({ mode: "job" });

  function build(startupBudget: (m: ModelService) => number | undefined = (m) => m.pod.startupBudgetSeconds) {
    return () => {
      const provider = new k8s.Provider("k8s", {});
      const models = [sleepy, awake].map(
        (model) =>
          new ModelService(model.name, {
            provider,
            environment: "dev",
            namespace: MODELS_NAMESPACE,
            model,
            gpuNodeGroup: groupOf(model),
            monitoring: true,
          }),
      );
      new Verification(
        "verification",
        {
          provider,
          environment: "dev",
          verification,
          namespace: MODELS_NAMESPACE,
          targets: models.map((m, i) => ({
            model: [sleepy, awake][i]!,
            url: m.url,
            startupBudgetSeconds: startupBudget(m),
          })),
        },
        { dependsOn: models },
      );
    };
  }

  it("the verification Job's pod carries the label the model's ScaledObject counts, in the same namespace", async () => {
    const { records } = await renderWithTimeouts(build());
    const job = records.find((r) => r.type === "kubernetes:batch/v1:Job")!;
    const scaledObjects = records.filter((r) => r.inputs.kind === "ScaledObject");
    const sleepySo = scaledObjects.find((r) => r.inputs.metadata.name === "bge-large-zh")!;
    const trigger = sleepySo.inputs.spec.triggers.find((t: any) => t.type === "kubernetes-workload");
    expect(trigger).toMatchObject({ name: "verifier", metadata: { value: "1", activationValue: "0" } });
    // The selector (key=value) matches the pod template's labels; KEDA lists pods in the ScaledObject's namespace.
    const [key, value] = String(trigger.metadata.podSelector).split("=");
    expect(key).toBe(VERIFIER_POD_LABEL);
    expect(job.inputs.spec.template.metadata.labels[key!]).toBe(value);
    expect(sleepySo.inputs.metadata.namespace).toBe(job.inputs.metadata.namespace);
    // Only the pod carries it: KEDA counts pods, not Jobs or ConfigMaps.
    expect(job.inputs.metadata.labels[VERIFIER_POD_LABEL]).toBeUndefined();
    // The model that never scales to zero does not react to the verifier.
    const awakeSo = scaledObjects.find((r) => r.inputs.metadata.name === "qwen3-reranker")!;
    expect(awakeSo.inputs.spec.triggers.some((t: any) => t.type === "kubernetes-workload")).toBe(false);
  });

  it("the Job's target waits up to KEDA's poll + a node + the image pull + the model's startup budget, and names the hours", async () => {
    const { records } = await renderWithTimeouts(build());
    const deployment = records.find(
      (r) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata.name === "bge-large-zh",
    )!;
    const probe = deployment.inputs.spec.template.spec.containers.find((c: any) => c.name === "engine").startupProbe;
    const startupBudget = probe.periodSeconds * probe.failureThreshold;
    const config = records.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === "verification-config")!;
    const [sleepyTarget, awakeTarget] = JSON.parse(config.inputs.data["verification.json"]).targets;
    expect(sleepyTarget.wakeTimeoutSeconds).toBeGreaterThanOrEqual(
      KEDA_POLLING_SECONDS + NODE_PROVISION_SECONDS + IMAGE_PULL_SECONDS + startupBudget - 10,
    );
    expect(sleepyTarget.wakeTimeoutSeconds).toBeLessThanOrEqual(
      KEDA_POLLING_SECONDS + NODE_PROVISION_SECONDS + IMAGE_PULL_SECONDS + startupBudget + 10,
    );
    expect(sleepyTarget.activeHours).toEqual(activeHours);
    expect(awakeTarget.wakeTimeoutSeconds).toBeUndefined();
  });

  it("the Job's activeDeadlineSeconds and Pulumi's await of it cover the wake-up on top of every model's checks", async () => {
    const { records, timeouts } = await renderWithTimeouts(build());
    const config = records.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === "verification-config")!;
    const wake = JSON.parse(config.inputs.data["verification.json"]).targets[0].wakeTimeoutSeconds as number;
    const job = records.find((r) => r.type === "kubernetes:batch/v1:Job")!;
    const checks = verification.timeoutSeconds * 2;
    expect(job.inputs.spec.activeDeadlineSeconds).toBeGreaterThanOrEqual(checks + wake);
    const awaited = timeouts.get("verification-job")!;
    expect(parseInt(awaited.create, 10)).toBeGreaterThan(job.inputs.spec.activeDeadlineSeconds);
    expect(parseInt(awaited.update, 10)).toBeGreaterThan(job.inputs.spec.activeDeadlineSeconds);
    // Without the wake-up the deadline is the checks' alone: a model that never sleeps costs nothing.
    const noSleep = await renderWithDependencies(program({ mode: "job" }));
    expect(noSleep.find((r) => r.type === "kubernetes:batch/v1:Job")!.inputs.spec.activeDeadlineSeconds).toBe(
      verification.timeoutSeconds * MODELS.length + 300,
    );
  });

  it("a library caller that passes no startup budget gets the longest one (never a shorter wait)", async () => {
    const { records } = await renderWithTimeouts(build(() => undefined));
    const config = records.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === "verification-config")!;
    expect(JSON.parse(config.inputs.data["verification.json"]).targets[0].wakeTimeoutSeconds).toBe(
      KEDA_POLLING_SECONDS + NODE_PROVISION_SECONDS + IMAGE_PULL_SECONDS + 3600,
    );
  });
});
