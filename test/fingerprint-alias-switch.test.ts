import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelConfigSchema, VerificationSchema, type ModelConfig } from "../components/config";
import { Verification, fingerprintTargetFor, targetFor } from "../components/verification/verification";
import { localVerificationProvider } from "../components/verification/provider";
import { planRecordAccess } from "../components/verification/record-access";
import type { JobConfig, LocalVerificationInputs, StackVerification } from "../components/contracts/stack-outputs";
import { DEFAULT_PUBLIC_PATH_LIMITS } from "../components/contracts/verify-target";
import { MODELS_NAMESPACE } from "../components/k8s/namespaces";
import { fingerprintConfigMapName, fromConfigMap } from "../components/fingerprint/store";
import type { FingerprintRecord } from "../components/fingerprint/schema";
import { runJob } from "../images/verifier/src/job";
import { OfflineRuntime } from "../plan/offline";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startFakeConfigMapApi, type FakeConfigMapApi } from "./fixtures/fake-configmap-api";
import { TinyEncoder, type EncoderOptions } from "./fixtures/tiny-encoder";

/**
 * An embedding alias switched without a re-index (#25): from tiny-a (the model the callers' indexes were built
 * with, `indexedWith`) to tiny-b, which loads the same weights under another dtype or engine version. The
 * verification compares tiny-b's answers taken in this run with tiny-a's RECORDED fingerprint, in local mode (the
 * verification resource's state) and in Job mode (ConfigMaps through a fake Kubernetes API). The fake engines run
 * the tiny encoder (test/fixtures/tiny-encoder.ts) on the probe texts: fp16 vs bf16 must match, a pooling change
 * (mean without the CLS token) and a normalisation change (L2 normalisation off) must not.
 */

const REVISION = "0123456789abcdef0123456789abcdef01234567";
const tiny = (name: string, extra: Record<string, unknown> = {}): ModelConfig =>
  ModelConfigSchema.parse({
    name,
    model: "acme/tiny-encoder",
    revision: REVISION,
    engine: "tei",
    task: "embed",
    replicas: { min: 1, max: 1 },
    slo: { p99LatencyMs: 5000 },
    // normalized false: the normalisation case must fail on the fingerprint, not on the unit-norm check.
    spec: {
      task: "embed",
      dims: 128,
      maxTokens: 512,
      parametersB: 0.01,
      architecture: "bert",
      normalized: false,
      languages: ["zh", "en"],
    },
    ...extra,
  });
const A = tiny("tiny-a", { dtype: "float16" });
const B = tiny("tiny-b", { dtype: "bfloat16" });
const RECORDED_WITH: EncoderOptions = { precision: "float16", pooling: "mean" };
const SAME_WEIGHTS_BF16: EncoderOptions = { precision: "bfloat16", pooling: "mean" };
const POOLING_CHANGED: EncoderOptions = { precision: "float16", pooling: "mean-without-cls" };
const NORMALISATION_OFF: EncoderOptions = { precision: "float16", pooling: "mean", normalize: false };

const servers: FakeServer[] = [];
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fp-alias-"));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A fake TEI server whose vectors are the tiny encoder's for each text (memoised: the encoder is slow). */
async function engine(m: ModelConfig, encoder: EncoderOptions): Promise<string> {
  const e = new TinyEncoder(encoder);
  const cache = new Map<string, number[]>();
  const s = await startFakeServer({
    dialect: "tei",
    servedModel: m.name,
    dims: 128,
    revector: (_base, text) => {
      if (!cache.has(text)) cache.set(text, e.embed(text));
      return [...cache.get(text)!];
    },
  });
  servers.push(s);
  return s.url;
}

const v = VerificationSchema.parse({ mode: "local" });
const options = {
  requests: 2,
  concurrency: 1,
  timeoutSeconds: 60,
  requestTimeoutSeconds: 10,
  maxRetries: 0,
  quality: { enabled: false, minMrrAt10: 0.75 },
};
const SWITCH = [{ alias: "embedder", from: "tiny-a" }];

/** The checks' targets: tiny-a, and tiny-b with the alias switch when given. */
async function targets(b?: { model: ModelConfig; encoder: EncoderOptions }, switched = true) {
  const out = [{ ...targetFor(A, await engine(A, RECORDED_WITH)), fingerprint: fingerprintTargetFor(A, v) }];
  if (b)
    out.push({
      ...targetFor(b.model, await engine(b.model, b.encoder)),
      fingerprint: fingerprintTargetFor(b.model, v, switched ? SWITCH : []),
    });
  return out;
}

describe("local mode: the verification resource compares the new target with the former model's record", () => {
  const local = async (ts: Awaited<ReturnType<typeof targets>>): Promise<LocalVerificationInputs> => ({
    targets: ts,
    options: { ...options, checkLoadGenerator: false },
    targetsHash: "h",
  });
  let first: { outs: { fingerprints: FingerprintRecord } };

  beforeAll(async () => {
    first = (await localVerificationProvider.create!(await local(await targets()))) as typeof first;
  }, 120_000);

  it("same weights at bf16: the switch passes; tiny-a's record stays tiny-a's, tiny-b gets its own", async () => {
    const recordedA = first.outs.fingerprints["tiny-a"]!;
    const r = (await localVerificationProvider.update!(
      "id",
      first.outs,
      await local(await targets({ model: B, encoder: SAME_WEIGHTS_BF16 })),
    )) as { outs: { fingerprints: FingerprintRecord; summary: string } };
    expect(r.outs.fingerprints["tiny-a"]).toEqual(recordedA);
    expect(r.outs.fingerprints["tiny-b"]!.key.dtype).toBe("bfloat16");
    expect(r.outs.fingerprints["tiny-b"]!.id).not.toBe(recordedA.id);
  }, 120_000);

  for (const [change, encoder] of [
    ["a pooling change", POOLING_CHANGED],
    ["a normalisation change", NORMALISATION_OFF],
  ] as const)
    it(`${change}: the deploy fails naming the alias, both models, the worst probe against the tolerance and both fixes`, async () => {
      const failure = await localVerificationProvider.update!(
        "id",
        first.outs,
        await local(await targets({ model: tiny("tiny-b", { dtype: "float16", engineVersion: "9.9.9" }), encoder })),
      ).then(
        () => "passed",
        (e: Error) => e.message,
      );
      expect(failure).toContain(
        "alias embedder: switching from tiny-a to tiny-b without a re-index needs tiny-b's vectors to match tiny-a's recorded fingerprint fp-",
      );
      expect(failure).toContain("acme/tiny-encoder@0123456789abcdef0123456789abcdef01234567 on tei");
      expect(failure).toMatch(/lowest per-probe cosine \d\.\d{4} \(probe \S+; tolerance ≥ 0\.999\)/);
      if (encoder === NORMALISATION_OFF) expect(failure).toMatch(/largest norm change \d{3,}\.\d\d %/);
      else expect(failure).toMatch(/lowest per-probe cosine 0\.99[0-8]\d/);
      expect(failure).toContain(
        "Fix: point the alias back at tiny-a (gateway.aliases.embedder.targets: [{ model: tiny-a }]), or re-index with tiny-b and set gateway.aliases.embedder.indexedWith: tiny-b.",
      );
    }, 120_000);

  it("no record of tiny-a (a first deploy that already switches): the deploy fails and says so", async () => {
    const failure = await localVerificationProvider.create!(
      await local(await targets({ model: B, encoder: SAME_WEIGHTS_BF16 })),
    ).then(
      () => "passed",
      (e: Error) => e.message,
    );
    expect(failure).toContain("alias embedder: switching from tiny-a to tiny-b");
    expect(failure).toContain("there is no record of tiny-a");
    expect(failure).toContain("set gateway.aliases.embedder.indexedWith: tiny-b");
  }, 120_000);
});

describe("Job mode: the Job compares with the former model's ConfigMap and leaves it as it is", () => {
  const NS = "retrieval";
  const vJob = VerificationSchema.parse({ mode: "job" });
  let api: FakeConfigMapApi;
  beforeAll(async () => {
    api = await startFakeConfigMapApi();
    // The Job runs with exactly the Role the component renders for these two models.
    api.enforceRole(
      planRecordAccess({ job: NS, record: NS }, ["tiny-a", "tiny-b"], false, {}).role.rules as {
        verbs: string[];
        resourceNames?: string[];
      }[],
    );
  });
  afterAll(async () => api?.close());

  let runs = 0;
  async function run(b?: { model: ModelConfig; encoder: EncoderOptions }, kube = api) {
    const ts = (await targets(b)).map((t) => ({
      ...t,
      fingerprint: fingerprintTargetFor(t.name === "tiny-a" ? A : b!.model, vJob, t.name === "tiny-a" ? [] : SWITCH),
    }));
    const config: JobConfig = {
      options: { ...options, publicPathLimits: DEFAULT_PUBLIC_PATH_LIMITS },
      targets: ts,
      record: { namespace: NS },
    };
    const file = path.join(dir, `job-${++runs}.json`);
    const termination = path.join(dir, `termination-${runs}`);
    fs.writeFileSync(file, JSON.stringify(config));
    const lines: string[] = [];
    const code = await runJob({
      env: { VERIFY_CONFIG_FILE: file, VERIFY_TERMINATION_LOG: termination },
      log: (l) => lines.push(l),
      kubeApi: { url: kube.url, token: () => kube.token },
    });
    const message = fs.existsSync(termination) ? fs.readFileSync(termination, "utf8") : "";
    return { code, log: lines.join("\n"), message };
  }
  const stored = (name: string) => api.get(NS, fingerprintConfigMapName(name));

  it("records tiny-a first; then tiny-b at bf16 matches it: the row says so, tiny-a's ConfigMap is untouched", async () => {
    expect((await run()).code).toBe(0);
    const a = stored("tiny-a")!;
    const r = await run({ model: B, encoder: SAME_WEIGHTS_BF16 });
    expect(r.code, r.message).toBe(0);
    expect(r.log).toContain("fingerprint.alias-switch.embedder");
    expect(r.log).toMatch(/\[tiny-b\] fingerprint\.alias-switch\.embedder: PASS/);
    const report = JSON.parse(/^REPORT_JSON (.*)$/m.exec(r.log)![1]!) as {
      targets: { name: string; checks: { check: string; got: string }[] }[];
    };
    const row = report.targets
      .find((t) => t.name === "tiny-b")!
      .checks.find((c) => c.check === "fingerprint.alias-switch.embedder")!;
    expect(row.got).toMatch(
      /^alias embedder: tiny-b \(acme\/tiny-encoder@\S+ on tei \S+, dtype bfloat16, 128 dims\) matches tiny-a's recorded fingerprint fp-[0-9a-f]{12} \(.*dtype float16, 128 dims\): lowest per-probe cosine (1\.0000|0\.999\d) \(probe \S+; tolerance ≥ 0\.999\)/,
    );
    expect(row.got).toContain("tiny-a's record stays tiny-a's");
    expect(stored("tiny-a")!.metadata.resourceVersion).toBe(a.metadata.resourceVersion);
    expect(fromConfigMap("tiny-b", stored("tiny-b")!)!.key.dtype).toBe("bfloat16");
  }, 120_000);

  it("a pooling change: the Job fails (so `pulumi up`) with the message, and writes no record", async () => {
    const before = api.calls.filter((c) => /^(POST|PUT) /.test(c)).length;
    const c = tiny("tiny-c", { dtype: "float16", engineVersion: "9.9.9" });
    const kube = await startFakeConfigMapApi();
    try {
      // tiny-a's record, copied into a fresh API, so that tiny-c has none of its own (it would be recorded now).
      const a = stored("tiny-a")!;
      kube.put(NS, { metadata: { name: a.metadata.name }, data: a.data!, binaryData: a.binaryData! });
      const r = await run({ model: c, encoder: POOLING_CHANGED }, kube);
      expect(r.code).toBe(1);
      expect(r.message).toContain(
        "alias embedder: switching from tiny-a to tiny-c without a re-index needs tiny-c's vectors to match tiny-a's recorded fingerprint",
      );
      expect(r.message).toMatch(/lowest per-probe cosine 0\.99[0-8]\d \(probe \S+; tolerance ≥ 0\.999\)/);
      expect(r.message).toContain("or re-index with tiny-c and set gateway.aliases.embedder.indexedWith: tiny-c.");
      expect(kube.calls.filter((x) => /^(POST|PUT) /.test(x))).toEqual([]);
    } finally {
      await kube.close();
    }
    expect(api.calls.filter((x) => /^(POST|PUT) /.test(x)).length).toBe(before);
  }, 120_000);

  it("no record of tiny-a in the cluster: the Job fails naming it", async () => {
    const kube = await startFakeConfigMapApi();
    try {
      const r = await run({ model: B, encoder: SAME_WEIGHTS_BF16 }, kube);
      expect(r.code).toBe(1);
      expect(r.message).toContain("there is no record of tiny-a");
    } finally {
      await kube.close();
    }
  }, 120_000);
});

describe("the component sends the switch to the Job", () => {
  async function jobOf(indexedWith: string) {
    const runtime = await OfflineRuntime.start({ stack: "test" });
    const verification = new Verification("verification", {
      provider: new k8s.Provider("k8s", {}),
      environment: "dev",
      verification: VerificationSchema.parse({ mode: "job", image: "ghcr.io/acme/verifier:1" }),
      namespace: MODELS_NAMESPACE,
      targets: [A, B].map((m) => ({ model: m, url: `http://${m.name}.${MODELS_NAMESPACE}.svc:80` })),
      aliases: { embedder: { targets: [{ model: "tiny-b", weight: 100 }], indexedWith } },
    });
    await runtime.settle();
    const output = await new Promise<StackVerification>((resolve) => verification.stackOutput.apply(resolve));
    const config = runtime.resources.find(
      (r) => r.type === "kubernetes:core/v1:ConfigMap" && (r.inputs as any).metadata.name.startsWith("verify-"),
    )!;
    const body = JSON.parse(Object.values((config.inputs as any).data as Record<string, string>)[0]!) as JobConfig;
    return { name: (config.inputs as any).metadata.name as string, body, output };
  }

  it("tiny-b's target carries the switch, and a switch alone is a new Job (the comparison runs)", async () => {
    const switched = await jobOf("tiny-a");
    const b = switched.body.targets.find((t) => t.name === "tiny-b")!;
    expect(b.fingerprint?.aliasSwitches).toEqual([{ alias: "embedder", from: "tiny-a" }]);
    expect(switched.body.targets.find((t) => t.name === "tiny-a")!.fingerprint?.aliasSwitches).toBeUndefined();
    // `verify --stack` reads no record, so the stack output leaves the comparison to the Job.
    expect(switched.output.targets.find((t) => t.name === "tiny-b")!.fingerprint).toBeDefined();
    expect(switched.output.targets.some((t) => t.fingerprint?.aliasSwitches)).toBe(false);
    const settled = await jobOf("tiny-b");
    expect(settled.body.targets.find((t) => t.name === "tiny-b")!.fingerprint?.aliasSwitches).toBeUndefined();
    expect(settled.name).not.toBe(switched.name);
  }, 60_000);
});
