import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OfflineRuntime } from "../plan/offline";
import { ModelConfigSchema, VerificationSchema, type ModelConfig } from "../components/config";
import { Verification, fingerprintTargetFor, targetFor } from "../components/verification/verification";
import { PROMOTION_CONFIGMAP, type JobConfig } from "../components/contracts/stack-outputs";
import { DEFAULT_PUBLIC_PATH_LIMITS } from "../components/contracts/verify-target";
import { PROMETHEUS_URL, MODELS_NAMESPACE } from "../components/k8s/namespaces";
import { fingerprintConfigMapName, fromConfigMap } from "../components/fingerprint/store";
import { runJob } from "../images/verifier/src/job";
import { PROMOTION_KEY } from "../images/verifier/src/record-store";
import { planRecordAccess } from "../components/verification/record-access";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startFakeConfigMapApi, type FakeConfigMapApi } from "./fixtures/fake-configmap-api";
import { parseStack } from "./config-helpers";
import { verificationSummary } from "../plan/summary-verification";

/**
 * The verification Job's record and promotion gate (#25), as in local mode but kept in ConfigMaps through the
 * Kubernetes API: the real Job program (images/verifier/src/job.ts) against fake engines and a fake API server on
 * 127.0.0.1 that answers the ConfigMap calls as the real one does (404 on the first deploy, 409 AlreadyExists and
 * Conflict, 403 from RBAC), and a fake Prometheus for the gate. Then the rendered ServiceAccount, Role and Job.
 */

const NS = "retrieval";
const v = VerificationSchema.parse({ mode: "job" });
const model = (extra: Record<string, unknown> = {}): ModelConfig =>
  ModelConfigSchema.parse({
    name: "bge-small-zh",
    model: "BAAI/bge-small-zh-v1.5",
    engine: "tei",
    task: "embed",
    replicas: { min: 1, max: 1 },
    slo: { p99LatencyMs: 2000 },
    ...extra,
  });
const flip = (x: number[]) => x.map((y, i) => (i % 2 ? y : -y));

const servers: FakeServer[] = [];
let api: FakeConfigMapApi;
let dir: string;
beforeAll(async () => {
  api = await startFakeConfigMapApi();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fp-job-"));
});
afterAll(async () => {
  await Promise.all([api?.close(), ...servers.map((s) => s.close())]);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function engine(revector?: (x: number[]) => number[]): Promise<string> {
  const s = await startFakeServer({ dialect: "tei", servedModel: "bge-small-zh", ...(revector ? { revector } : {}) });
  servers.push(s);
  return s.url;
}

const options = {
  requests: 2,
  concurrency: 1,
  timeoutSeconds: 30,
  requestTimeoutSeconds: 5,
  maxRetries: 0,
  quality: { enabled: false, minMrrAt10: 0.75 },
  publicPathLimits: DEFAULT_PUBLIC_PATH_LIMITS,
};

function jobConfig(m: ModelConfig, url: string, extra: Partial<JobConfig> = {}): JobConfig {
  return {
    options,
    targets: [{ ...targetFor(m, url), fingerprint: fingerprintTargetFor(m, v) }],
    record: { namespace: NS },
    ...extra,
  };
}

let runs = 0;
/** Runs the Job program; `kube` null = a pod without a Kubernetes API. */
async function run(config: JobConfig, kube: FakeConfigMapApi | null = api, now?: Date) {
  const file = path.join(dir, `config-${++runs}.json`);
  const termination = path.join(dir, `termination-${runs}`);
  fs.writeFileSync(file, JSON.stringify(config));
  const lines: string[] = [];
  const code = await runJob({
    env: { VERIFY_CONFIG_FILE: file, VERIFY_TERMINATION_LOG: termination },
    log: (l) => lines.push(l),
    ...(kube ? { kubeApi: { url: kube.url, token: () => kube.token } } : {}),
    ...(now ? { now } : {}),
  });
  const message = fs.existsSync(termination) ? fs.readFileSync(termination, "utf8") : "";
  return { code, log: lines.join("\n"), message };
}

const stored = (name = "bge-small-zh") => api.get(NS, fingerprintConfigMapName(name));
const writes = () => api.calls.filter((c) => /^(POST|PUT) /.test(c));

describe("the verification Job keeps the fingerprint record in a ConfigMap per model", () => {
  it("first deploy: GET 404, then the Job creates the ConfigMap (float16 in binaryData) after every check passed", async () => {
    const url = await engine();
    const r = await run(jobConfig(model(), url));
    expect(r.code).toBe(0);
    expect(api.calls).toContain(`GET ${NS}/fingerprint-bge-small-zh 404`);
    expect(api.calls).toContain(`POST ${NS}/fingerprint-bge-small-zh 201`);
    const cm = stored()!;
    // 512 dims x 16 probes x 2 bytes of float16, nothing inline in the JSON part.
    expect(Buffer.from(cm.binaryData!["bge-small-zh.fingerprint.f16"]!, "base64").length).toBe(512 * 16 * 2);
    expect(cm.data!["bge-small-zh.fingerprint.json"]!.length).toBeLessThan(4000);
    const f = fromConfigMap("bge-small-zh", cm)!;
    expect(f.id).toMatch(/^fp-[0-9a-f]{12}$/);
    expect(r.log).toContain(`fingerprint ${f.id} recorded`);
    expect(r.log).toContain(`record: bge-small-zh: fingerprint ${f.id} created in fingerprint-bge-small-zh`);
  });

  it("a later deploy with the same engine compares, matches and writes nothing", async () => {
    const before = stored()!.metadata.resourceVersion;
    const n = writes().length;
    const r = await run(jobConfig(model(), await engine()));
    expect(r.code).toBe(0);
    expect(r.log).toMatch(/bge-small-zh: matches fingerprint fp-[0-9a-f]{12}: lowest per-probe cosine 1\.0000/);
    expect(writes().length).toBe(n);
    expect(stored()!.metadata.resourceVersion).toBe(before);
  });

  it("a drift fails the Job (so `pulumi up`) with the local mode's message, and the record stays", async () => {
    const before = stored()!;
    const r = await run(jobConfig(model({ engineVersion: "1.9.0" }), await engine(flip)));
    expect(r.code).toBe(1);
    expect(r.message).toContain("bge-small-zh (BAAI/bge-small-zh-v1.5): the vectors drifted");
    expect(r.message).toMatch(/What changed: engine version \S+ -> 1\.9\.0\./);
    expect(r.message).toMatch(/models\.bge-small-zh\.reindexConfirmed: "fp-[0-9a-f]{12}"/);
    expect(stored()!.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it("a confirmed re-index replaces the record (PUT at the version read)", async () => {
    const failed = await run(jobConfig(model({ engineVersion: "1.9.0" }), await engine(flip)));
    const confirm = /reindexConfirmed: "(fp-[0-9a-f]{12})"/.exec(failed.message)![1]!;
    const oldId = fromConfigMap("bge-small-zh", stored()!)!.id;
    const r = await run(jobConfig(model({ engineVersion: "1.9.0", reindexConfirmed: confirm }), await engine(flip)));
    expect(r.code).toBe(0);
    expect(api.calls.at(-1)).toBe(`PUT ${NS}/fingerprint-bge-small-zh 200`);
    const now = fromConfigMap("bge-small-zh", stored()!)!;
    expect(now.id).not.toBe(oldId);
    expect(now.key.engineVersion).toBe("1.9.0");
  });

  it("409 Conflict: another writer changed the record since it was read: nothing overwritten, the Job fails", async () => {
    // Back to a drifted state that needs a write: a re-index confirmed against the current record.
    const failed = await run(jobConfig(model({ engineVersion: "2.0.0" }), await engine()));
    const confirm = /reindexConfirmed: "(fp-[0-9a-f]{12})"/.exec(failed.message)![1]!;
    const theirs = { "bge-small-zh.fingerprint.json": "{}" };
    api.interfere(fingerprintConfigMapName("bge-small-zh"), (current, ns) => {
      api.put(ns, { metadata: current!.metadata, data: theirs });
    });
    const r = await run(jobConfig(model({ engineVersion: "2.0.0", reindexConfirmed: confirm }), await engine()));
    expect(r.code).toBe(1);
    expect(api.calls).toContain(`PUT ${NS}/fingerprint-bge-small-zh 409`);
    expect(r.message).toContain("was changed by someone else while this verification ran (Conflict)");
    expect(r.message).toContain("Fix: run `pulumi up` again");
    expect(stored()!.data).toEqual(theirs);
  });

  it("409 Conflict on metadata only (a label added): read again, retried once at the new version", async () => {
    // Restore a valid record, then drift it again with a confirmation.
    const cm = stored()!;
    api.put(NS, { metadata: cm.metadata, data: {} });
    expect((await run(jobConfig(model({ engineVersion: "2.0.0" }), await engine()))).code).toBe(0);
    const failed = await run(jobConfig(model({ engineVersion: "2.1.0" }), await engine(flip)));
    const confirm = /reindexConfirmed: "(fp-[0-9a-f]{12})"/.exec(failed.message)![1]!;
    api.interfere(fingerprintConfigMapName("bge-small-zh"), (current, ns) => {
      api.put(ns, { ...current!, metadata: { ...current!.metadata, labels: { team: "search" } } });
    });
    const r = await run(jobConfig(model({ engineVersion: "2.1.0", reindexConfirmed: confirm }), await engine(flip)));
    expect(r.code).toBe(0);
    const tail = api.calls.slice(-3);
    expect(tail).toEqual([
      `PUT ${NS}/fingerprint-bge-small-zh 409`,
      `GET ${NS}/fingerprint-bge-small-zh 200`,
      `PUT ${NS}/fingerprint-bge-small-zh 200`,
    ]);
    expect(fromConfigMap("bge-small-zh", stored()!)!.key.engineVersion).toBe("2.1.0");
  });

  it("409 AlreadyExists on the first deploy: a concurrent Job stored the same fingerprint; nothing to do", async () => {
    const m = model({ name: "twin" });
    api.interfere(fingerprintConfigMapName("twin"), () => {
      // The other Job ran the same probes against the same engine: the same fingerprint.
      const other = JSON.parse(fs.readFileSync(path.join(dir, "twin.json"), "utf8"));
      api.put(NS, other);
    });
    // What the other Job would store: take it from a dry run against a separate API.
    const other = await startFakeConfigMapApi();
    try {
      const url = await engine();
      expect((await run(jobConfig(m, url), other)).code).toBe(0);
      fs.writeFileSync(path.join(dir, "twin.json"), JSON.stringify(other.get(NS, fingerprintConfigMapName("twin"))));
      const r = await run(jobConfig(m, url));
      expect(r.code).toBe(0);
      expect(api.calls).toContain(`POST ${NS}/fingerprint-twin 409`);
      expect(r.log).toMatch(/twin: fingerprint fp-[0-9a-f]{12} already stored in fingerprint-twin/);
    } finally {
      await other.close();
    }
  });

  it("RBAC refuses (403): the Job fails naming the Role, before any check", async () => {
    const kube = await startFakeConfigMapApi();
    try {
      kube.forbid(fingerprintConfigMapName("bge-small-zh"));
      const r = await run(jobConfig(model(), await engine()), kube);
      expect(r.code).toBe(1);
      expect(r.message).toContain(
        "verification record unreadable: Kubernetes API GET configmap retrieval/fingerprint-bge-small-zh: 403 Forbidden",
      );
      expect(r.message).toContain("lacks the Role");
    } finally {
      await kube.close();
    }
  });

  it("a record that does not hold together fails the Job with the fix, and is left as it is", async () => {
    const kube = await startFakeConfigMapApi();
    try {
      const m = model();
      kube.put(NS, {
        metadata: { name: fingerprintConfigMapName("bge-small-zh") },
        data: { "bge-small-zh.fingerprint.json": '{"task":"embed","truncated":' },
      });
      const r = await run(jobConfig(m, await engine()), kube);
      expect(r.code).toBe(1);
      expect(r.message).toContain("verification record unreadable:");
      expect(r.message).toContain(
        "Fix: restore configmap retrieval/fingerprint-bge-small-zh, or delete it (kubectl -n retrieval delete configmap fingerprint-bge-small-zh)",
      );
      expect(kube.calls.filter((c) => /^(POST|PUT) /.test(c))).toEqual([]);
    } finally {
      await kube.close();
    }
  });

  it("in a pod: the API from KUBERNETES_SERVICE_HOST/PORT over TLS, the CA and token from the service account files", async () => {
    const certDir = fs.mkdtempSync(path.join(dir, "sa-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=kube-apiserver",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        path.join(certDir, "key.pem"),
        "-out",
        path.join(certDir, "ca.crt"),
      ],
      { stdio: "ignore" },
    );
    fs.writeFileSync(path.join(certDir, "token"), "projected-token\n");
    const kube = await startFakeConfigMapApi("projected-token", {
      key: fs.readFileSync(path.join(certDir, "key.pem"), "utf8"),
      cert: fs.readFileSync(path.join(certDir, "ca.crt"), "utf8"),
    });
    try {
      const port = new URL(kube.url).port;
      const file = path.join(dir, "in-pod.json");
      fs.writeFileSync(file, JSON.stringify(jobConfig(model(), await engine())));
      const lines: string[] = [];
      const code = await runJob({
        env: {
          VERIFY_CONFIG_FILE: file,
          VERIFY_TERMINATION_LOG: path.join(dir, "in-pod-termination"),
          KUBERNETES_SERVICE_HOST: "127.0.0.1",
          KUBERNETES_SERVICE_PORT: port,
        },
        log: (l) => lines.push(l),
        serviceAccountDir: certDir,
      });
      expect(code).toBe(0);
      expect(kube.calls).toEqual([`GET ${NS}/fingerprint-bge-small-zh 404`, `POST ${NS}/fingerprint-bge-small-zh 201`]);
      // A CA that did not sign the server's certificate: refused, never trusted.
      const other = fs.mkdtempSync(path.join(dir, "sa-other-"));
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=other",
          "-keyout",
          path.join(other, "key.pem"),
          "-out",
          path.join(other, "ca.crt"),
        ],
        { stdio: "ignore" },
      );
      fs.writeFileSync(path.join(other, "token"), "projected-token");
      const r = await runJob({
        env: {
          VERIFY_CONFIG_FILE: file,
          VERIFY_TERMINATION_LOG: path.join(dir, "in-pod-termination-2"),
          KUBERNETES_SERVICE_HOST: "127.0.0.1",
          KUBERNETES_SERVICE_PORT: port,
        },
        log: () => {},
        serviceAccountDir: other,
      });
      expect(r).toBe(1);
      expect(fs.readFileSync(path.join(dir, "in-pod-termination-2"), "utf8")).toMatch(
        /verification record unreadable: Kubernetes API GET \/api\/v1\/namespaces\/retrieval\/configmaps\/fingerprint-bge-small-zh: .*(certificate|self.signed)/i,
      );
    } finally {
      await kube.close();
    }
  }, 30_000);

  it("no Kubernetes API in the pod (no token): fails with the fix instead of skipping the comparison", async () => {
    const r = await run(jobConfig(model(), await engine()), null);
    expect(r.code).toBe(1);
    expect(r.message).toContain("no Kubernetes API to read the recorded fingerprints from");
  });
});

// ---------------------------------------------------------------------------------------------------------
// The promotion gate in the Job: the previous deploy's aliases from a ConfigMap, the evidence from Prometheus.
// ---------------------------------------------------------------------------------------------------------

interface FakeEvidence {
  shadowCalls?: number;
  kendallTau?: number;
  top3?: number;
  ndcg?: number;
  mrr?: Record<string, number>;
  canaryNdcg?: Record<string, number>;
}

/** Prometheus' instant-query API (GET /api/v1/query), answering each of the gate's queries from `evidence`. */
async function fakePrometheus(evidence: () => FakeEvidence) {
  const queries: string[] = [];
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? "/", "http://x").searchParams.get("query") ?? "";
    queries.push(q);
    const e = evidence();
    const model = /model="([^"]+)"/.exec(q)?.[1] ?? "";
    const value = q.includes("canary_mrr_at_10")
      ? e.mrr?.[model]
      : q.includes("canary_ndcg_at_10")
        ? e.canaryNdcg?.[model]
        : q.includes('measure="kendall_tau"')
          ? e.kendallTau
          : q.includes('measure="top3"')
            ? e.top3
            : q.includes('measure="ndcg_at_10"')
              ? e.ndcg
              : q.includes("shadow_compared_total")
                ? e.shadowCalls
                : undefined;
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        status: "success",
        data: { resultType: "vector", result: value === undefined ? [] : [{ metric: {}, value: [1, String(value)] }] },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe("the Job needs nothing beyond the Role it is given", () => {
  it("first deploy, a match, a confirmed re-index and the gate's aliases, all under the rendered Role", async () => {
    const kube = await startFakeConfigMapApi();
    const prom = await fakePrometheus(() => ({}));
    try {
      const rules = planRecordAccess({ job: NS, record: NS }, ["bge-small-zh"], true, {}).role.rules as {
        verbs: string[];
        resourceNames?: string[];
      }[];
      kube.enforceRole(rules);
      const promotion = {
        aliases: { reranker: { targets: [{ model: "bge-reranker", weight: 100 }] } },
        tasks: { "bge-reranker": "rerank" as const },
        gate: (({ enabled: _e, prometheusUrl: _p, override: _o, ...g }) => g)(VerificationSchema.parse({}).promotion),
        prometheusUrl: prom.url,
      };
      expect((await run(jobConfig(model(), await engine(), { promotion }), kube)).code).toBe(0);
      expect((await run(jobConfig(model(), await engine(), { promotion }), kube)).code).toBe(0);
      const drift = await run(jobConfig(model({ engineVersion: "3.0.0" }), await engine(flip), { promotion }), kube);
      const confirm = /reindexConfirmed: "(fp-[0-9a-f]{12})"/.exec(drift.message)![1]!;
      const r = await run(
        jobConfig(model({ engineVersion: "3.0.0", reindexConfirmed: confirm }), await engine(flip), { promotion }),
        kube,
      );
      expect(r.code).toBe(0);
      expect(kube.calls.filter((c) => c.endsWith(" 403"))).toEqual([]);
      expect(kube.calls).toContain(`PUT ${NS}/fingerprint-bge-small-zh 200`);
      expect(kube.calls).toContain(`POST ${NS}/${PROMOTION_CONFIGMAP} 201`);
      // And the Role really is narrow: another ConfigMap is refused.
      kube.enforceRole(rules);
      const other = await run(jobConfig(model({ name: "not-in-the-role" }), await engine()), kube);
      expect(other.code).toBe(1);
      expect(other.message).toContain("403 Forbidden");
    } finally {
      await Promise.all([kube.close(), prom.close()]);
    }
  });
});

describe("the promotion gate runs in the Job", () => {
  const gate = VerificationSchema.parse({}).promotion;
  const { enabled: _e, prometheusUrl: _p, override: _o, ...thresholds } = gate;
  const aliases = (candidateWeight: number) => ({
    reranker: {
      targets: [
        { model: "bge-reranker", weight: 100 - candidateWeight },
        { model: "qwen3-reranker", weight: candidateWeight },
      ],
    },
  });
  const promotion = (w: number, prometheusUrl: string, override?: string) => ({
    aliases: aliases(w),
    tasks: { "bge-reranker": "rerank" as const, "qwen3-reranker": "rerank" as const },
    gate: thresholds,
    prometheusUrl,
    ...(override ? { override } : {}),
  });

  it("first deploy stores the aliases; a raise without evidence fails naming the numbers; with evidence it passes", async () => {
    const kube = await startFakeConfigMapApi();
    let evidence: FakeEvidence = { shadowCalls: 120 };
    const prom = await fakePrometheus(() => evidence);
    try {
      const url = await engine();
      const first = await run(jobConfig(model(), url, { promotion: promotion(10, prom.url) }), kube);
      expect(first.code).toBe(0);
      expect(kube.calls).toContain(`GET ${NS}/${PROMOTION_CONFIGMAP} 404`);
      expect(JSON.parse(kube.get(NS, PROMOTION_CONFIGMAP)!.data![PROMOTION_KEY]!)).toEqual(aliases(10));
      expect(prom.queries).toEqual([]); // nothing to compare with yet: no gate

      const raised = await run(jobConfig(model(), url, { promotion: promotion(50, prom.url) }), kube);
      expect(raised.code).toBe(1);
      expect(raised.message).toContain("promotion gate failed:");
      expect(raised.message).toContain(
        "alias reranker: qwen3-reranker's share 10 % -> 50 % (qwen3-reranker vs bge-reranker): the evidence is missing or short: 120 shadow comparisons in 24h (needs ≥ 500)",
      );
      expect(raised.log).not.toContain("[bge-small-zh] verifying"); // the gate ran before any check
      expect(JSON.parse(kube.get(NS, PROMOTION_CONFIGMAP)!.data![PROMOTION_KEY]!)).toEqual(aliases(10));
      expect(
        prom.queries.some((q) =>
          q.includes('retrieval_gateway_shadow_compared_total{alias="reranker",shadow="qwen3-reranker"}'),
        ),
      ).toBe(true);

      evidence = {
        shadowCalls: 800,
        kendallTau: 0.9,
        top3: 0.95,
        ndcg: 0.97,
        mrr: { "qwen3-reranker": 0.83, "bge-reranker": 0.82 },
        canaryNdcg: { "qwen3-reranker": 0.88, "bge-reranker": 0.87 },
      };
      const passed = await run(jobConfig(model(), url, { promotion: promotion(50, prom.url) }), kube);
      expect(passed.code).toBe(0);
      expect(passed.log).toContain("promotion gate: alias reranker: qwen3-reranker's share 10 % -> 50 %");
      expect(passed.log).toContain("evidence passes the promotion gate.");
      expect(JSON.parse(kube.get(NS, PROMOTION_CONFIGMAP)!.data![PROMOTION_KEY]!)).toEqual(aliases(50));
    } finally {
      await Promise.all([kube.close(), prom.close()]);
    }
  });

  it("an unreachable Prometheus is an error, never a pass; the override passes with the numbers in the log", async () => {
    const kube = await startFakeConfigMapApi();
    try {
      const url = await engine();
      const dead = "http://127.0.0.1:9"; // discard port: nothing listens
      expect((await run(jobConfig(model(), url, { promotion: promotion(10, dead) }), kube)).code).toBe(0);
      const r = await run(jobConfig(model(), url, { promotion: promotion(50, dead) }), kube);
      expect(r.code).toBe(1);
      expect(r.message).toContain(`Prometheus at ${dead} unreachable`);
      const prom = await fakePrometheus(() => ({ shadowCalls: 3 }));
      try {
        const o = await run(
          jobConfig(model(), url, { promotion: promotion(50, prom.url, "INC-42 rollback of a bad model") }),
          kube,
        );
        expect(o.code).toBe(0);
        expect(o.log).toContain(
          'promotion gate OVERRIDDEN ("INC-42 rollback of a bad model") although 3 shadow comparisons',
        );
      } finally {
        await prom.close();
      }
    } finally {
      await kube.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// What `pulumi up` creates for it: the ServiceAccount, the narrow Role, the Job that runs with them.
// ---------------------------------------------------------------------------------------------------------

interface Rendered {
  type: string;
  name: string;
  inputs: Record<string, any>;
  deps: string[];
  urn: string;
}

const MODELS = [
  model(),
  ModelConfigSchema.parse({
    name: "bge-reranker",
    model: "BAAI/bge-reranker-v2-m3",
    engine: "tei",
    task: "rerank",
    replicas: { min: 1, max: 1 },
    slo: { p99LatencyMs: 2000 },
  }),
  ModelConfigSchema.parse({
    name: "qwen3-reranker",
    model: "Qwen/Qwen3-Reranker-0.6B",
    engine: "vllm",
    task: "rerank",
    replicas: { min: 1, max: 1 },
    slo: { p99LatencyMs: 2000 },
  }),
];

async function render(
  verification: Record<string, unknown>,
  weight = 10,
  recordNamespace?: string,
): Promise<Rendered[]> {
  const runtime = await OfflineRuntime.start({ stack: "test" });
  const provider = new k8s.Provider("k8s", {});
  new Verification("verification", {
    provider,
    environment: "dev",
    verification: VerificationSchema.parse({ mode: "job", image: "ghcr.io/acme/verifier:1", ...verification }),
    namespace: MODELS_NAMESPACE,
    ...(recordNamespace ? { recordNamespace } : {}),
    targets: MODELS.map((m) => ({ model: m, url: `http://${m.name}.${MODELS_NAMESPACE}.svc:80` })),
    aliases: {
      reranker: {
        targets: [
          { model: "bge-reranker", weight: 100 - weight },
          { model: "qwen3-reranker", weight },
        ],
      },
    },
  });
  await runtime.settle();
  return runtime.resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    inputs: r.inputs as Record<string, any>,
    deps: [...r.dependencies],
  }));
}
const one = (rs: Rendered[], type: string) => rs.filter((r) => r.type === type);

describe("the rendered Job, ServiceAccount and Role", () => {
  it("a Role of get/update on exactly the record's ConfigMaps and create, bound to the Job's service account", async () => {
    const rs = await render({});
    const [role] = one(rs, "kubernetes:rbac.authorization.k8s.io/v1:Role");
    expect(role!.inputs.metadata.namespace).toBe(MODELS_NAMESPACE);
    expect(role!.inputs.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: [
          "fingerprint-bge-small-zh",
          "fingerprint-bge-reranker",
          "fingerprint-qwen3-reranker",
          PROMOTION_CONFIGMAP,
        ],
        verbs: ["get", "update"],
      },
      { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
    ]);
    const verbs = role!.inputs.rules.flatMap((r: { verbs: string[] }) => r.verbs);
    for (const v of ["list", "watch", "patch", "delete", "deletecollection", "*"]) expect(verbs).not.toContain(v);
    const [binding] = one(rs, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
    expect(binding!.inputs.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "retrieval-verifier",
    });
    expect(binding!.inputs.subjects).toEqual([
      { kind: "ServiceAccount", name: "retrieval-verifier", namespace: MODELS_NAMESPACE },
    ]);
    const [sa] = one(rs, "kubernetes:core/v1:ServiceAccount");
    expect(sa!.inputs.automountServiceAccountToken).toBe(false);

    const [job] = one(rs, "kubernetes:batch/v1:Job");
    // How a failed gate or drift fails `pulumi up`: the provider awaits the Job (Complete, or Failed at once); no
    // skipAwait, one pod (its exit 1 is the verdict), replaced at the next `pulumi up` after a failure.
    expect(job!.inputs.metadata.annotations).toEqual({ "pulumi.com/replaceUnready": "true" });
    expect(job!.inputs.spec.backoffLimit).toBe(0);
    const pod = job!.inputs.spec.template.spec;
    expect(pod.serviceAccountName).toBe("retrieval-verifier");
    expect(pod.automountServiceAccountToken).toBe(true);
    // The Job starts after its Role is bound (its first call reads the record).
    expect(job!.deps).toEqual(expect.arrayContaining([binding!.urn, role!.urn, sa!.urn]));

    const config = one(rs, "kubernetes:core/v1:ConfigMap").find((c) => c.inputs.metadata.name.startsWith("verify-"))!;
    const body = JSON.parse(Object.values(config.inputs.data as Record<string, string>)[0]!) as JobConfig;
    expect(body.record).toEqual({ namespace: MODELS_NAMESPACE });
    expect(body.promotion?.prometheusUrl).toBe(PROMETHEUS_URL);
    expect(body.promotion?.aliases.reranker!.targets[1]).toEqual({ model: "qwen3-reranker", weight: 10 });
    expect(body.targets.every((t) => t.fingerprint && !t.fingerprint.recorded)).toBe(true);
  }, 60_000);

  it("a weight change alone is a new Job (the gate runs); the same aliases keep the name", async () => {
    const name = async (w: number) =>
      one(await render({}, w), "kubernetes:batch/v1:Job")[0]!.inputs.metadata.name as string;
    const [a, b, c] = [await name(10), await name(10), await name(50)];
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  }, 60_000);

  it("the record beside a canary in another namespace: Role and binding there, the Job's account from its own", async () => {
    const rs = await render({}, 10, "retrieval-gateway");
    const [role] = one(rs, "kubernetes:rbac.authorization.k8s.io/v1:Role");
    const [binding] = one(rs, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
    const [sa] = one(rs, "kubernetes:core/v1:ServiceAccount");
    expect(role!.inputs.metadata.namespace).toBe("retrieval-gateway");
    expect(binding!.inputs.metadata.namespace).toBe("retrieval-gateway");
    expect(binding!.inputs.subjects).toEqual([
      { kind: "ServiceAccount", name: "retrieval-verifier", namespace: MODELS_NAMESPACE },
    ]);
    expect(sa!.inputs.metadata.namespace).toBe(MODELS_NAMESPACE);
    const config = one(rs, "kubernetes:core/v1:ConfigMap").find((c) => c.inputs.metadata.name.startsWith("verify-"))!;
    const body = JSON.parse(Object.values(config.inputs.data as Record<string, string>)[0]!) as JobConfig;
    expect(body.record).toEqual({ namespace: "retrieval-gateway" });
  }, 60_000);

  it("fingerprints and promotion off: no service account, no Role, no token in the pod", async () => {
    const rs = await render({ fingerprint: { enabled: false }, promotion: { enabled: false } });
    expect(one(rs, "kubernetes:rbac.authorization.k8s.io/v1:Role")).toEqual([]);
    expect(one(rs, "kubernetes:core/v1:ServiceAccount")).toEqual([]);
    const pod = one(rs, "kubernetes:batch/v1:Job")[0]!.inputs.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBeUndefined();
  }, 60_000);
});

describe("plan.md shows where the record is kept and the gate runs", () => {
  const summaryOf = (mode: "job" | "local", prometheusUrl?: string) => {
    const config = parseStack("dev");
    const c = config as unknown as {
      verification: { mode: string; promotion: { prometheusUrl?: string } };
      gateway: { aliases: Record<string, unknown> };
    };
    c.verification.mode = mode;
    c.verification.promotion.prometheusUrl = prometheusUrl;
    c.gateway.aliases = {
      reranker: {
        targets: [
          { model: "a", weight: 90 },
          { model: "b", weight: 10 },
        ],
      },
    };
    return verificationSummary({ config, plan: { objects: [], resources: [], helmReleases: [] } } as never) ?? "";
  };

  it("job mode: the Job keeps the record and runs the gate against the in-cluster Prometheus", () => {
    const s = summaryOf("job");
    expect(s).toContain("records by the verification Job in each model's ConfigMap `fingerprint-<model>`");
    expect(s).toContain(
      `Promotion gate for \`reranker\` (docs/model-changes.md; run by the verification Job before its checks, against ${PROMETHEUS_URL})`,
    );
  });

  it("local mode: the resource's state, and the URL the machine reaches (or that it is missing)", () => {
    expect(summaryOf("local")).toContain(
      "from verification.promotion.prometheusUrl (not set: a promotion fails until it is)",
    );
    expect(summaryOf("local", "http://127.0.0.1:9090")).toContain("(http://127.0.0.1:9090)");
    expect(summaryOf("local")).toContain("records in the local verification resource's state");
  });
});
