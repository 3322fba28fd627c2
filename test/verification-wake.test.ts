import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifyTarget, type ProgressEvent } from "../images/verifier/src/verify";
import { runJob } from "../images/verifier/src/job";
import type { VerifyOptions, VerifyTargetInput } from "../components/contracts/verify-target";
import { formatReport, type TargetReport } from "../images/verifier/src/report";
import { closedPortUrl, startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startWakingServer } from "./fixtures/waking-server";

// A scale-to-zero model outside its working hours: the verifier waits for it (bounded) before the checks.
// Waits are kept tiny by configuration: wakeTimeoutSeconds per target, options.wake.pollMs between polls.

const OPTIONS: VerifyOptions = {
  requests: 6,
  concurrency: 2,
  timeoutSeconds: 10,
  requestTimeoutSeconds: 2,
  maxRetries: 1,
  quality: { enabled: false, minMrrAt10: 0.75 },
  retry: { baseBackoffMs: 10, maxBackoffMs: 50 },
  wake: { pollMs: 200 },
};
const activeHours = { timezone: "Asia/Shanghai", start: "0 8 * * 1-5", end: "0 20 * * 1-5" };
const target = (url: string, extra: Partial<VerifyTargetInput> = {}): VerifyTargetInput => ({
  name: "bge-small-zh",
  url,
  dialect: "tei",
  task: "embed",
  servedModel: "bge-small-zh",
  modelId: "BAAI/bge-small-zh-v1.5",
  dims: 512,
  normalized: true,
  sloP99Ms: 2000,
  activeHours,
  ...extra,
});

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function track<T extends FakeServer>(s: Promise<T>): Promise<T> {
  const server = await s;
  servers.push(server);
  return server;
}

function row(report: TargetReport, check: string) {
  const r = report.checks.find((c) => c.check === check);
  if (!r)
    throw new Error(`no row ${check}\n${formatReport({ pass: report.pass, startedAt: "", ms: 0, targets: [report] })}`);
  return r;
}

async function timed(input: VerifyTargetInput, options: VerifyOptions = OPTIONS) {
  const events: ProgressEvent[] = [];
  const started = performance.now();
  const report = await verifyTarget(input, options, (e) => events.push(e));
  return {
    report,
    events,
    ms: performance.now() - started,
    lines: events.filter((e) => e.message).map((e) => e.message!),
  };
}

describe("wake-up of a scale-to-zero model before the checks", () => {
  it("a model that answers 503 for 1.5 s, then 200: waited for, reported, then every check passes", async () => {
    const server = await track(startWakingServer({ dialect: "tei", dims: 512, servedModel: "bge-small-zh" }, 1500));
    const { report, lines, ms } = await timed(target(server.url, { wakeTimeoutSeconds: 10 }));
    expect(report.checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(report.pass).toBe(true);
    expect(server.refused()).toBeGreaterThanOrEqual(3);
    const wake = row(report, "wake");
    expect(wake.status).toBe("pass");
    expect(wake.got).toMatch(/^answered after 1\.\d s \(\d+ polls\): scaled up from zero$/);
    expect(wake.ms).toBeGreaterThanOrEqual(1400);
    expect(wake.expected).toBe(
      "HTTP 200 from GET /health within 10 s (scales to zero; activeHours 0 8 * * 1-5 to 0 20 * * 1-5 (Asia/Shanghai))",
    );
    expect(lines[0]).toMatch(
      /^waiting for bge-small-zh to scale up from zero \(up to 10 s; GET \/health: HTTP 503 Service Unavailable from \/health: "no healthy upstream"\) \.\.\.$/,
    );
    // The wake row comes first, then the usual checks, health included.
    expect(report.checks[0]!.check).toBe("wake");
    expect(row(report, "health").status).toBe("pass");
    expect(ms).toBeLessThan(8000);
  });

  it("a model that never becomes healthy fails `health` within the configured wait, naming the wait and the activeHours", async () => {
    const server = await track(startWakingServer({ dialect: "tei", dims: 512 }, Number.POSITIVE_INFINITY));
    const { report, ms, lines } = await timed(target(server.url, { wakeTimeoutSeconds: 1.5 }), {
      ...OPTIONS,
      wake: { pollMs: 200, progressEveryMs: 500 },
    });
    expect(report.pass).toBe(false);
    // One row: every other call would fail the same way.
    expect(report.checks.map((c) => [c.check, c.status])).toEqual([["health", "fail"]]);
    expect(row(report, "health").got).toMatch(
      /^waited 1\.\d s for bge-small-zh, a scaled-to-zero model \(activeHours 0 8 \* \* 1-5 to 0 20 \* \* 1-5 \(Asia\/Shanghai\)\), and it never became healthy; last GET \/health: HTTP 503 .*no healthy upstream.*deploy during its activeHours\.$/,
    );
    expect(ms).toBeGreaterThanOrEqual(1450);
    expect(ms).toBeLessThan(1500 + 1000);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^still waiting for bge-small-zh to scale up from zero: [01]\.\d s of 1\.5 s \(GET \/health: HTTP 503/,
      ),
    );
  });

  it("nothing listening (no pod behind the Service) is waited for too, and the message says what came back", async () => {
    const { report, ms } = await timed(
      target(await closedPortUrl(), { wakeTimeoutSeconds: 0.8, activeHours: undefined }),
    );
    expect(row(report, "health").got).toMatch(
      /^waited 0\.\d s for bge-small-zh, a scaled-to-zero model \(no activeHours: it runs only while there is demand\), and it never became healthy; last GET \/health: connection refused by .*still loading\?\)\.$/,
    );
    expect(ms).toBeLessThan(800 + 1000);
  });

  it("a model that is already running is not waited for", async () => {
    const server = await track(startFakeServer({ dialect: "tei", dims: 512 }));
    const { report, lines, ms } = await timed(target(server.url, { wakeTimeoutSeconds: 30 }));
    expect(report.pass).toBe(true);
    expect(row(report, "wake").got).toBe("answered at once (already running)");
    expect(lines).toEqual([]);
    expect(ms).toBeLessThan(5000);
  });

  it("an answer no wait will change (404 on the health path) ends the wait at once; the health check reports it", async () => {
    const server = await track(startFakeServer({ dialect: "tei", dims: 512 }));
    // KServe's V1 health path on a TEI server: 404.
    const { report, ms } = await timed(target(server.url, { dialect: "kserve-v1", wakeTimeoutSeconds: 30 }));
    expect(row(report, "wake").status).toBe("skip");
    expect(row(report, "health").status).toBe("fail");
    expect(ms).toBeLessThan(5000);
  });

  it("a routed target (through the ingress) has no health endpoint to poll: no wake phase", async () => {
    const server = await track(startFakeServer({ dialect: "tei", dims: 512 }));
    const { report } = await timed(target(server.url, { wakeTimeoutSeconds: 30, route: "/v1/embeddings" }));
    expect(report.checks.some((c) => c.check === "wake")).toBe(false);
  });
});

describe("the Job's entry point waits for a scaled-to-zero model", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-wake-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The Job's options come from the ConfigMap (no poll override): the default polling starts at 250 ms.
  const jobOptions = {
    requests: 6,
    concurrency: 2,
    timeoutSeconds: 20,
    requestTimeoutSeconds: 3,
    maxRetries: 1,
    quality: { enabled: false, minMrrAt10: 0.75 },
  };
  function env(name: string, config: unknown) {
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(config));
    return { VERIFY_CONFIG_FILE: file, VERIFY_TERMINATION_LOG: path.join(dir, `${name}.termination`) };
  }

  it("logs the wait and passes once the model answers", async () => {
    const server = await track(startWakingServer({ dialect: "tei", dims: 512, servedModel: "bge-small-zh" }, 1500));
    const lines: string[] = [];
    const e = env("wakes", { options: jobOptions, targets: [target(server.url, { wakeTimeoutSeconds: 20 })] });
    expect(await runJob({ env: e, log: (l) => lines.push(l) })).toBe(0);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^\[bge-small-zh\] waiting for bge-small-zh to scale up from zero \(up to 20 s; GET \/health: HTTP 503/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^\[bge-small-zh\] wake: PASS/));
  });

  it("fails with the wait in the termination message when the model never comes up", async () => {
    const server = await track(startWakingServer({ dialect: "tei", dims: 512 }, Number.POSITIVE_INFINITY));
    const e = env("never", { options: jobOptions, targets: [target(server.url, { wakeTimeoutSeconds: 1 })] });
    expect(await runJob({ env: e, log: () => {} })).toBe(1);
    expect(fs.readFileSync(e.VERIFY_TERMINATION_LOG, "utf8")).toMatch(
      /^bge-small-zh health: expected HTTP 200 from GET \/health within 1 s \(scales to zero; activeHours 0 8 \* \* 1-5 to 0 20 \* \* 1-5 \(Asia\/Shanghai\)\); got waited 1\.\d s for bge-small-zh, a scaled-to-zero model/,
    );
  });
});
