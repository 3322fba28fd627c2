import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { afterAll, describe, expect, it } from "vitest";
import { OfflineRuntime } from "../plan/offline";
import { CanarySchema, ModelConfigSchema, VerificationSchema } from "../components/config";
import { QualityCanary, fingerprintVolume } from "../components/observability/quality-canary";
import { Verification, fingerprintTargetFor } from "../components/verification/verification";
import { embedFingerprint, rerankFingerprint, type Fingerprint } from "../components/fingerprint/fingerprint";
import { EMBED_PROBES } from "../components/fingerprint/probes";
import {
  fingerprintConfigMapName,
  fingerprintJsonKey,
  fingerprintUnitsKey,
  fromConfigMap,
  readMountedFingerprint,
  toConfigMapData,
} from "../components/fingerprint/store";
import { CONFIGMAP_DATA_LIMIT_BYTES, ETCD_REQUEST_LIMIT_BYTES } from "../components/k8s/object-size";
import { CANARY_FINGERPRINT_DIR, CanaryTargetSchema } from "../components/contracts/canary";
import { MODELS_NAMESPACE } from "../components/k8s/namespaces";
import { verifyTarget } from "../images/verifier/src/verify";
import { runTarget } from "../images/canary/src/run";
import { Registry } from "../images/canary/src/metrics";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";

/**
 * Item 2 of #25's follow-up: recorded fingerprints live out of line, one ConfigMap per model (JSON + float16
 * binaryData), mounted by the canary, so that no object grows with the number of models. Round trip, the size of
 * every rendered object with 300 models of 1024 dims, and the canary reading the mounted files over real sockets.
 */

const KEY = {
  modelId: "BAAI/bge-large-zh-v1.5",
  revision: "unpinned",
  engine: "tei",
  engineVersion: "1.8.2",
  dtype: "auto",
  dimensions: 1024,
};

/** A deterministic 1024-dim fingerprint over every embedding probe (32). */
function bigFingerprint(seed: number, dims = 1024): Fingerprint {
  let x = seed * 7919 + 1;
  const rnd = () => ((x = (x * 48271) % 2147483647) / 2147483647) * 2 - 1;
  return embedFingerprint(
    { ...KEY, dimensions: dims },
    EMBED_PROBES.map((p) => ({ id: p.id, vector: Array.from({ length: dims }, rnd) })),
  );
}

/** Bytes of a ConfigMap's payload as the API server counts it: data values plus decoded binaryData. */
const payloadBytes = (d: { data: Record<string, string>; binaryData: Record<string, string> }) =>
  Object.entries(d.data).reduce((s, [k, v]) => s + k.length + Buffer.byteLength(v), 0) +
  Object.entries(d.binaryData).reduce((s, [k, v]) => s + k.length + Buffer.from(v, "base64").length, 0);

describe("a fingerprint's ConfigMap form", () => {
  it("round-trips an embedding fingerprint exactly (same id, same float16 bytes) and a rerank one", () => {
    const f = bigFingerprint(1);
    const d = toConfigMapData("bge-large-zh", f);
    expect(Object.keys(d.data)).toEqual([fingerprintJsonKey("bge-large-zh")]);
    expect(Object.keys(d.binaryData)).toEqual([fingerprintUnitsKey("bge-large-zh")]);
    expect(Buffer.from(d.binaryData[fingerprintUnitsKey("bge-large-zh")]!, "base64").length).toBe(32 * 1024 * 2);
    expect(fromConfigMap("bge-large-zh", d)).toEqual(f);
    const r = rerankFingerprint({ ...KEY, dimensions: 0 }, [{ id: "zh-r1", scores: [0.9, 0.1, -2] }]);
    const rd = toConfigMapData("rr", r);
    expect(rd.binaryData).toEqual({});
    expect(fromConfigMap("rr", rd)).toEqual(r);
    expect(fromConfigMap("other-model", d)).toBeUndefined();
  });

  it("a truncated or foreign object is refused naming the model, never used as the reference", () => {
    const d = toConfigMapData("m", bigFingerprint(2, 64));
    const units = Buffer.from(d.binaryData[fingerprintUnitsKey("m")]!, "base64");
    const cut = {
      ...d,
      binaryData: { [fingerprintUnitsKey("m")]: units.subarray(0, units.length - 2).toString("base64") },
    };
    expect(() => fromConfigMap("m", cut)).toThrow(
      "recorded fingerprint of m: expected 32 x 64 float16 values (4096 bytes), found 4094 bytes",
    );
    expect(() => fromConfigMap("m", { data: { [fingerprintJsonKey("m")]: '{"task":"embed"}' } })).toThrow(
      /recorded fingerprint of m is not in the expected shape: key:/,
    );
  });
});

describe("300 models of 1024 dims: every object stays under the API server's limits", () => {
  const N = 300;
  const models = Array.from({ length: N }, (_, i) =>
    ModelConfigSchema.parse({
      name: `bge-large-zh-${i}`,
      model: "BAAI/bge-large-zh-v1.5",
      engine: "tei",
      task: "embed",
      replicas: { min: 1, max: 1 },
      slo: { p99LatencyMs: 2000 },
    }),
  );
  const v = VerificationSchema.parse({ mode: "job", image: "ghcr.io/acme/verifier:1" });

  it("each fingerprint ConfigMap ~64 KiB of payload; the canary's config, Deployment, Job config and Role small", async () => {
    // The per-model ConfigMaps as the Job (or local mode) writes them.
    let largest = 0;
    for (let i = 0; i < N; i += 37) {
      const d = toConfigMapData(models[i]!.name, bigFingerprint(i));
      largest = Math.max(largest, payloadBytes(d));
      const object = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: fingerprintConfigMapName(models[i]!.name) },
        ...d,
      };
      expect(Buffer.byteLength(JSON.stringify(object))).toBeLessThan(ETCD_REQUEST_LIMIT_BYTES);
    }
    expect(largest).toBeGreaterThan(64 * 1024); // 32 probes x 1024 x 2 bytes, plus the JSON part
    expect(largest).toBeLessThan(72 * 1024);
    expect(largest).toBeLessThan(CONFIGMAP_DATA_LIMIT_BYTES / 10);

    const records = Array.from({ length: 5 }, (_, i) => bigFingerprint(1000 + i));
    // What the canary's config used to carry: every record inline.
    const inline = records.reduce((s, r) => s + Buffer.byteLength(JSON.stringify(r)), 0) * (N / records.length);
    expect(inline).toBeGreaterThan(20 * CONFIGMAP_DATA_LIMIT_BYTES);
    // The canary and the verification Job rendered with all 300 models, fingerprints enabled.
    const runtime = await OfflineRuntime.start({ stack: "test" });
    const provider = new k8s.Provider("k8s", {});
    const verifier = new Verification("verification", {
      provider,
      environment: "dev",
      verification: v,
      namespace: MODELS_NAMESPACE,
      targets: models.map((m) => ({ model: m, url: `http://${m.name}.${MODELS_NAMESPACE}.svc:80` })),
    });
    new QualityCanary("quality-canary", {
      provider,
      canary: CanarySchema.parse({}),
      image: "retrieval-verifier:test",
      targets: models.map((m) => ({ model: m, url: `http://${m.name}.${MODELS_NAMESPACE}.svc:80` })),
      // Records handed in inline (as before this change) must still never reach the canary's config.
      fingerprints: Object.fromEntries(
        models.map((m, i) => [
          m.name,
          { ...verifier.fingerprintTargets[m.name]!, recorded: records[i % records.length]! },
        ]),
      ),
    });
    await runtime.settle();
    const objects = runtime.resources.filter((r) => r.type.startsWith("kubernetes:") && r.custom);
    const too: string[] = [];
    for (const o of objects) {
      const inputs = o.inputs as { data?: Record<string, string>; binaryData?: Record<string, string> };
      const size = Buffer.byteLength(JSON.stringify(inputs));
      if (size > ETCD_REQUEST_LIMIT_BYTES) too.push(`${o.type} ${o.name}: ${size}`);
      if (o.type === "kubernetes:core/v1:ConfigMap") {
        const data = payloadBytes({ data: inputs.data ?? {}, binaryData: inputs.binaryData ?? {} });
        if (data > CONFIGMAP_DATA_LIMIT_BYTES) too.push(`${o.name}: data ${data}`);
      }
    }
    expect(too).toEqual([]);
    const canaryConfig = runtime.resources.find((r) => r.name === "quality-canary-config")!;
    const text = Object.values((canaryConfig.inputs as { data: Record<string, string> }).data)[0]!;
    // Before: every recorded fingerprint inline, ~90 KB per model (27 MB for 300). Now: keys and tolerances only.
    expect(Buffer.byteLength(text)).toBeLessThan(512 * 1024);
    expect(text).not.toContain('"recorded"');
    expect(JSON.parse(text).fingerprintDir).toBe(CANARY_FINGERPRINT_DIR);
    const deployment = runtime.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    const volumes = (deployment.inputs as any).spec.template.spec.volumes as { name: string; projected?: any }[];
    const sources = volumes.find((x) => x.name === "fingerprints")!.projected.sources as {
      configMap: { name: string; optional: boolean };
    }[];
    expect(sources).toHaveLength(N);
    expect(sources.every((s) => s.configMap.optional)).toBe(true);
    expect(sources[299]!.configMap.name).toBe("fingerprint-bge-large-zh-299");
    const role = runtime.resources.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role")!;
    expect((role.inputs as any).rules[0].resourceNames).toHaveLength(N);
  }, 120_000);
});

describe("the canary reads the mounted record on every run, over real sockets", () => {
  const servers: FakeServer[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fp-mount-"));
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const fake = async (revector?: (v: number[]) => number[]) => {
    const s = await startFakeServer({
      dialect: "tei",
      servedModel: "bge-small-zh",
      dims: 512,
      ...(revector ? { revector } : {}),
    });
    servers.push(s);
    return s.url;
  };
  const m = ModelConfigSchema.parse({
    name: "bge-small-zh",
    model: "BAAI/bge-small-zh-v1.5",
    engine: "tei",
    task: "embed",
    replicas: { min: 1, max: 1 },
    slo: { p99LatencyMs: 2000 },
  });
  const fingerprint = fingerprintTargetFor(m, VerificationSchema.parse({}));
  const target = (url: string) => ({
    name: "bge-small-zh",
    url,
    dialect: "tei",
    task: "embed" as const,
    servedModel: "bge-small-zh",
    dims: 512,
    languages: ["zh"],
    fingerprint,
  });
  /** What the kubelet writes for a mounted ConfigMap: each data key as text, each binaryData key as its bytes. */
  const mount = (d: { data: Record<string, string>; binaryData: Record<string, string> }) => {
    for (const [k, val] of Object.entries(d.data)) fs.writeFileSync(path.join(dir, k), val);
    for (const [k, val] of Object.entries(d.binaryData))
      fs.writeFileSync(path.join(dir, k), Buffer.from(val, "base64"));
  };
  const config = { requestTimeoutSeconds: 5, maxRetries: 0, intervalSeconds: 60, fingerprintDir: dir };

  it("no file yet: no fingerprint check; a mounted record: match 1; a drifted engine: match 0", async () => {
    const registry = new Registry();
    const url = await fake();
    const t = CanaryTargetSchema.parse(target(url));
    expect((await runTarget(t, config, registry)).fingerprint).toBeUndefined();
    expect(readMountedFingerprint(dir, "bge-small-zh")).toBeUndefined();

    const first = await verifyTarget(target(url), {
      requests: 2,
      concurrency: 1,
      timeoutSeconds: 30,
      requestTimeoutSeconds: 5,
      maxRetries: 0,
      quality: { enabled: false, minMrrAt10: 0.75 },
      checkLoadGenerator: false,
    });
    mount(toConfigMapData("bge-small-zh", first.fingerprint!));
    expect(readMountedFingerprint(dir, "bge-small-zh")).toEqual(first.fingerprint);
    expect((await runTarget(t, config, registry)).fingerprint).toBe(true);
    expect(registry.get("fingerprintMatch", { model: "bge-small-zh" })).toBe(1);

    const drifted = CanaryTargetSchema.parse(target(await fake((v) => v.map((x, i) => (i % 2 ? x : -x)))));
    expect((await runTarget(drifted, config, registry)).fingerprint).toBe(false);
    expect(registry.get("fingerprintMatch", { model: "bge-small-zh" })).toBe(0);
  });

  it("a corrupt mounted record fails the fingerprint check with the reason (never a silent pass)", async () => {
    fs.writeFileSync(path.join(dir, fingerprintUnitsKey("bge-small-zh")), Buffer.alloc(10));
    const registry = new Registry();
    const lines: string[] = [];
    const out = await runTarget(CanaryTargetSchema.parse(target(await fake())), config, registry, {
      log: (l) => lines.push(l),
    });
    expect(out.fingerprint).toBe(false);
    expect(lines.join("\n")).toContain("recorded fingerprint of bge-small-zh: expected 16 x 512 float16 values");
  });
});

describe("the canary's volume", () => {
  it("one projected volume, every source optional, named after the model", () => {
    expect(fingerprintVolume(["a", "b"])).toEqual({
      name: "fingerprints",
      projected: {
        sources: [
          { configMap: { name: "fingerprint-a", optional: true } },
          { configMap: { name: "fingerprint-b", optional: true } },
        ],
      },
    });
  });
});

describe("who renders the fingerprint ConfigMaps", () => {
  const models = ["bge-small-zh", "bge-small-en"].map((name) =>
    ModelConfigSchema.parse({
      name,
      model: "BAAI/bge-small-zh-v1.5",
      engine: "tei",
      task: "embed",
      replicas: { min: 1, max: 1 },
      slo: { p99LatencyMs: 2000 },
    }),
  );
  const render = async (mode: "local" | "job") => {
    const runtime = await OfflineRuntime.start({ stack: "test" });
    new Verification("verification", {
      provider: new k8s.Provider("k8s", {}),
      environment: "local",
      verification: VerificationSchema.parse({ mode, image: "ghcr.io/acme/verifier:1" }),
      namespace: MODELS_NAMESPACE,
      targets: models.map((m) => ({ model: m, url: `http://${m.name}.${MODELS_NAMESPACE}.svc:80` })),
    });
    await runtime.settle();
    return runtime.resources
      .filter((r) => r.type === "kubernetes:core/v1:ConfigMap")
      .map(
        (r) => (r.inputs as { metadata: { name: string; namespace: string; labels: Record<string, string> } }).metadata,
      )
      .filter((m) => m.name.startsWith("fingerprint-"));
  };

  it("local mode: Pulumi renders one per model from the resource's state, in the canary's namespace", async () => {
    const maps = await render("local");
    expect(maps.map((m) => m.name)).toEqual(["fingerprint-bge-small-zh", "fingerprint-bge-small-en"]);
    expect(maps.every((m) => m.namespace === MODELS_NAMESPACE)).toBe(true);
    expect(maps.map((m) => m.labels["retrieval-stack.io/fingerprint-of"])).toEqual(["bge-small-zh", "bge-small-en"]);
  }, 60_000);

  it("job mode: none (the Job writes them, so that a new Job never deletes a record)", async () => {
    expect(await render("job")).toEqual([]);
  }, 60_000);
});
