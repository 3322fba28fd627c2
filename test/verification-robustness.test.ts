import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TargetReport } from "../images/verifier/src/report";
import type { VerifyOptions, VerifyTargetInput } from "../components/contracts/verify-target";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startHostileServer, type HostileMode, type HostileServer } from "./fixtures/hostile-server";
import { ROOT, run } from "./run-cli";

// ---------------------------------------------------------------------------------------------------------
// The verifier against servers that misbehave at the HTTP level (issue 15, items 10-12), each run in its own
// process (test/fixtures/verify-child.ts) so that its peak memory is its own: the Job's limit is 512 Mi.
// ---------------------------------------------------------------------------------------------------------

const CHILD = path.join(ROOT, "test", "fixtures", "verify-child.ts");
/** The Job's memory limit (components/verification/verification.ts) minus headroom. */
const RSS_BUDGET_MIB = 400;

const OPTIONS: VerifyOptions = {
  requests: 4,
  concurrency: 2,
  timeoutSeconds: 20,
  requestTimeoutSeconds: 0.5,
  maxRetries: 1,
  quality: { enabled: false, minMrrAt10: 0.75 },
  retry: { baseBackoffMs: 10, maxBackoffMs: 20 },
  checkLoadGenerator: false,
};

const target = (url: string): VerifyTargetInput => ({
  name: "m",
  url,
  dialect: "openai",
  task: "embed",
  servedModel: "m",
  normalized: false,
});

interface ChildResult {
  readonly report: TargetReport;
  readonly ms: number;
  readonly maxRssMiB: number;
}

async function verifyInChild(
  url: string,
  options: Partial<VerifyOptions> = {},
  gcEveryMs?: number,
): Promise<ChildResult> {
  const args = ["--expose-gc", "--import", "tsx", CHILD];
  args.push(JSON.stringify({ target: target(url), options: { ...OPTIONS, ...options }, gcEveryMs }));
  const r = await run(process.execPath, args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`verify child exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as ChildResult;
}

const health = (r: ChildResult) => r.report.checks.find((c) => c.check === "health")!;

const hostile: HostileServer[] = [];
let good: FakeServer;
let baseline: ChildResult;
beforeAll(async () => {
  good = await startFakeServer({ dialect: "openai", servedModel: "m" });
  baseline = await verifyInChild(good.url);
});
afterAll(async () => {
  await Promise.all([good?.close(), ...hostile.map((s) => s.close())]);
});

async function serve(mode: HostileMode, options?: { bytes?: number; location?: string }) {
  const s = await startHostileServer(mode, options);
  hostile.push(s);
  return s;
}

describe("the verifier against hostile servers", () => {
  it("baseline: a correct server passes (the RSS the other rows compare with)", () => {
    console.log(
      `verifier child against a correct server: peak RSS ${baseline.maxRssMiB} MiB, ${Math.round(baseline.ms)} ms`,
    );
    expect(baseline.report.pass).toBe(true);
  });

  it("a server that never answers: each attempt ends at its own timeout, also while GC runs every 10 ms", async () => {
    const s = await serve("silent");
    // Overall budget 20 s; 2 attempts of 500 ms each must end the health check in about 1 s, not at 20 s.
    const r = await verifyInChild(s.url, { timeoutSeconds: 20 }, 10);
    expect(health(r)).toMatchObject({ status: "fail" });
    expect(health(r).got).toMatch(
      /^no complete response within 500 ms from http:\/\/127\.0\.0\.1:\d+\/v1\/models \(after 2 attempts\)$/,
    );
    expect(health(r).ms).toBeLessThan(5000);
    expect(s.requests()).toBe(2);
  });

  it("a 200 MB body fails at the cap, fast and in bounded memory", async () => {
    const s = await serve("huge");
    const r = await verifyInChild(s.url, { requestTimeoutSeconds: 20, maxRetries: 0 });
    console.log(
      `200 MB body: peak RSS ${r.maxRssMiB} MiB (baseline ${baseline.maxRssMiB}), server wrote ${(s.written() / 2 ** 20).toFixed(0)} MiB before the verifier hung up, health row after ${Math.round(health(r).ms)} ms`,
    );
    expect(health(r).status).toBe("fail");
    expect(health(r).got).toMatch(
      /the body from http:\/\/127\.0\.0\.1:\d+\/v1\/models passed 16 MiB \(the most the verifier reads\)/,
    );
    expect(r.maxRssMiB).toBeLessThan(RSS_BUDGET_MIB);
    expect(s.written()).toBeLessThan(100 * 2 ** 20);
  });

  it("a declared 200 MB body fails before it is read", async () => {
    const s = await serve("huge-declared");
    const r = await verifyInChild(s.url, { requestTimeoutSeconds: 20, maxRetries: 0 });
    expect(health(r).got).toMatch(/is 200 MiB \(content-length\), more than the 16 MiB the verifier reads/);
    expect(r.maxRssMiB).toBeLessThan(RSS_BUDGET_MIB);
  });

  it("a gzip bomb (4 MB expanding to 4 GiB) fails at the decompressed cap in bounded memory", async () => {
    const s = await serve("gzip-bomb");
    const r = await verifyInChild(s.url, { requestTimeoutSeconds: 20, maxRetries: 0 });
    console.log(
      `gzip bomb: peak RSS ${r.maxRssMiB} MiB (baseline ${baseline.maxRssMiB}), ${(s.written() / 2 ** 20).toFixed(1)} MiB on the wire, health row after ${Math.round(health(r).ms)} ms`,
    );
    expect(health(r).got).toMatch(/the gzip body from http:\/\/127\.0\.0\.1:\d+\/v1\/models expands past 16 MiB/);
    expect(r.maxRssMiB).toBeLessThan(RSS_BUDGET_MIB);
    expect(health(r).ms).toBeLessThan(10_000);
  });

  it("a body that drips forever: the health check ends at its timeout, not when the server stops", async () => {
    const s = await serve("drip");
    const r = await verifyInChild(s.url, { requestTimeoutSeconds: 0.5, maxRetries: 0 }, 10);
    expect(health(r).got).toMatch(/^no complete response within 500 ms from http:\/\/127\.0\.0\.1:\d+\/v1\/models$/);
    expect(health(r).ms).toBeLessThan(2000);
  });

  it("a 307 to another port FAILS naming the Location; the server it points at is never called", async () => {
    const before = good.log.length;
    const s = await serve("redirect", { location: `${good.url}/v1/models` });
    const r = await verifyInChild(s.url, { maxRetries: 2 });
    expect(r.report.pass).toBe(false);
    expect(health(r)).toMatchObject({ status: "fail" });
    expect(health(r).got).toBe(
      `HTTP 307 Temporary Redirect from /v1/models redirects to ${good.url}/v1/models: not followed (the verifier checks only the URL it was given; use the final URL)`,
    );
    expect(s.requests()).toBe(1); // a redirect is not transient: no retry
    expect(good.log.length).toBe(before);
  });
});
