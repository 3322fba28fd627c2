// The public-path limit checks (edge.body-limit, edge.rate-limit) over real sockets: against the real nginx running
// the route table as the project renders it (test/fixtures/nginx-conf.ts) in front of a fake engine, and against
// ingresses that do not enforce what they are configured to: each must fail with the limit and the fix named.
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyTarget } from "../images/verifier/src/verify";
import { main } from "../images/verifier/src/cli";
import { edgeChecks } from "../images/verifier/src/checks/edge";
import { EngineClient } from "../images/verifier/src/client";
import { routedDialect } from "../images/verifier/src/routed";
import { DEFAULT_RETRY, Deadline } from "../images/verifier/src/http";
import type { CheckResult } from "../images/verifier/src/report";
import { dialectNamed } from "../components/serving/dialects";
import {
  DEFAULT_PUBLIC_PATH_LIMITS,
  VerifyTargetSchema,
  type PublicEdge,
  type PublicEdgeInput,
  type VerifyOptions,
  type VerifyTargetInput,
} from "../components/contracts/verify-target";
import { targetsFromStackOutputs } from "../components/contracts/stack-outputs";
import { rateLimited, tooLarge, unauthorized } from "../components/ingress/responses";
import { routeTable } from "../components/ingress/routes";
import { nginxIngressController } from "../components/ingress/nginx-ingress";
import { renderNginxConf } from "./fixtures/nginx-conf";
import { NGINX_TOOL, startNginx, stopNginx } from "./fixtures/nginx-process";
import { EVERY_ENGINE, KEYS, PROD_INGRESS, ingressConfig } from "./fixtures/ingress";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { describeWithTool } from "./fixtures/tools";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { OfflineRuntime } from "../plan/offline";
import { VerificationSchema } from "../components/config";
import { Verification } from "../components/verification";
import { JOB_CONFIG_KEY } from "../components/contracts/stack-outputs";
import { freePort } from "./free-port";

const MODEL = EVERY_ENGINE[0]!; // bge-large-zh on SGLang, embed
const INGRESS = ingressConfig({
  rateLimit: { requestsPerSecond: 50, burst: 50 },
  maxBodySize: "64k",
  timeoutSeconds: 5,
});
const ROUTE = routeTable([MODEL], INGRESS)[0]!;
/** What the project says this ingress enforces (one controller pod locally, keys checked). */
const EDGE: PublicEdge = nginxIngressController.enforcedLimits({
  environment: "local",
  ingress: INGRESS,
  routes: [ROUTE],
  auth: true,
}).routes[MODEL.name]!;

const OPTIONS: VerifyOptions = {
  requests: 8,
  concurrency: 2,
  timeoutSeconds: 30,
  requestTimeoutSeconds: 5,
  maxRetries: 0,
  quality: { enabled: false, minMrrAt10: 0.75 },
  checkLoadGenerator: false,
  apiKey: KEYS[0],
  publicPathLimits: { ...DEFAULT_PUBLIC_PATH_LIMITS, maxSeconds: 10 },
};

const target = (url: string, edge: PublicEdgeInput = EDGE): VerifyTargetInput => ({
  name: MODEL.name,
  url,
  route: ROUTE.publicPath,
  dialect: "sglang",
  task: "embed",
  servedModel: MODEL.name,
  modelId: MODEL.model,
  dims: 1024,
  sloP99Ms: 2000,
  edge,
});

const row = (rows: readonly CheckResult[], check: string) => {
  const r = rows.find((c) => c.check === check);
  if (!r) throw new Error(`no ${check} row in ${rows.map((c) => c.check).join(", ")}`);
  return r;
};

/** Only the edge checks, against any base URL (a misbehaving "ingress" fails the others long before). */
async function edgeOnly(url: string, edge: PublicEdgeInput, options: VerifyOptions = OPTIONS): Promise<CheckResult[]> {
  const t = VerifyTargetSchema.parse(target(url, edge));
  const deadline = new Deadline(options.timeoutSeconds * 1000);
  const client = new EngineClient(t.url, routedDialect(dialectNamed("sglang")!, "embed", t.route!), t.servedModel, {
    apiKey: options.apiKey,
    requestTimeoutMs: options.requestTimeoutSeconds * 1000,
    retry: { ...DEFAULT_RETRY, maxRetries: 0 },
    deadline,
  });
  try {
    return await edgeChecks({ client, target: t, options, deadline });
  } finally {
    deadline.dispose();
    await client.close();
  }
}

/** One nginx, rendered by the project's fixture from `ingress`, in front of `engine`. */
async function nginxFor(
  dir: string,
  engine: FakeServer,
  ingress = INGRESS,
): Promise<{ url: string; process: ChildProcess }> {
  const listen = await freePort();
  const conf = path.join(dir, `nginx-${listen}.conf`);
  const routes = routeTable([MODEL], ingress);
  fs.writeFileSync(
    conf,
    renderNginxConf(routes, {
      listen,
      serverName: "retrieval.test",
      upstreams: { [MODEL.name]: new URL(engine.url).host },
      apiKeys: KEYS,
      prefix: dir,
      maxBodySize: ingress.maxBodySize,
      timeoutSeconds: ingress.timeoutSeconds,
      replicas: 1,
    }),
  );
  return { url: `http://127.0.0.1:${listen}`, process: await startNginx(dir, conf, listen) };
}

describe("what the ingress says it enforces", () => {
  it("sums each route's limit over the controller pods as NGINX counts it (prod: two pods)", () => {
    const ingress = ingressConfig(PROD_INGRESS);
    const routes = routeTable(EVERY_ENGINE, ingress);
    const { routes: limits, gateway } = nginxIngressController.enforcedLimits({
      environment: "prod",
      ingress,
      routes,
      auth: true,
    });
    // 100 r/s burst 200 -> 50 r/s and burst 100 per pod.
    expect(limits["bge-large-zh"]!.rateLimit).toEqual({
      requestsPerSecond: 100,
      burst: 200,
      replicas: 2,
      perKey: true,
      page: { status: 429, body: rateLimited("bge-large-zh").body, headers: ["Retry-After"] },
    });
    // 0.5 r/s -> 30r/m -> 15r/m per pod; burst 100 (the default) split in two.
    expect(limits["bge-reranker-m3"]!.rateLimit).toMatchObject({ requestsPerSecond: 0.5, replicas: 2 });
    // TEI refuses bodies over 2,000,000 bytes itself: the route's limit is TEI's, not the ingress's 32m.
    expect(limits["bge-small-zh"]).toMatchObject({ maxBodySize: "2000000", maxBodyBytes: 2_000_000 });
    expect(limits["bge-large-zh"]).toMatchObject({ maxBodySize: "32m", maxBodyBytes: 32 * 1024 * 1024 });
    // The gateway's paths have NGINX's body limit but answer their own 429s.
    expect(gateway).toEqual({
      maxBodySize: "32m",
      maxBodyBytes: 32 * 1024 * 1024,
      tooLarge: { status: 413, body: tooLarge("32m").body, headers: [] },
    });
  });

  it("is checked on the public path only: in-cluster targets from the stack outputs carry no edge", () => {
    const outputs = {
      verification: {
        options: { requests: 10, concurrency: 1, timeoutSeconds: 60, requestTimeoutSeconds: 5, maxRetries: 0 },
        targets: [
          {
            ...target("http://bge-large-zh.retrieval.svc:8000"),
            route: undefined,
            publicUrl: `https://retrieval.example.com${ROUTE.publicPath}`,
          },
        ],
      },
    };
    expect(targetsFromStackOutputs(outputs).targets[0]).toMatchObject({ edge: EDGE, route: ROUTE.publicPath });
    expect(targetsFromStackOutputs(outputs, true).targets[0]).not.toHaveProperty("edge");
    // An older stack output without publicPathLimits still parses, with the defaults.
    expect(targetsFromStackOutputs(outputs).options).toMatchObject({ publicPathLimits: { bodySize: true } });
  });
});

describe("the Verification component", () => {
  it("prod: the public-path run carries each route's limits, the in-cluster Job none", async () => {
    const runtime = await OfflineRuntime.start({ stack: "edge" });
    new Verification("verification", {
      provider: new k8s.Provider("k8s", {}),
      environment: "prod",
      verification: VerificationSchema.parse({
        mode: "job",
        image: "ghcr.io/acme/verifier:1",
        publicPathLimits: { maxSeconds: 5 },
      }),
      targets: [
        {
          model: MODEL,
          url: "http://bge-large-zh.retrieval.svc:8000",
          publicUrl: `https://retrieval.example.com${ROUTE.publicPath}`,
          edge: EDGE,
        },
      ],
      apiKey: pulumi.secret("sk-offline-test-key-0123456789"),
    });
    await runtime.settle();
    const local = runtime.resources.find((r) => r.type === "pulumi-nodejs:dynamic/verification:LocalVerification")!;
    const inputs = local.inputs as { targets: Record<string, unknown>[]; options: Record<string, unknown> };
    expect(inputs.targets[0]).toMatchObject({ route: ROUTE.publicPath, edge: EDGE });
    expect(inputs.options.publicPathLimits).toEqual({
      bodySize: true,
      rateLimit: true,
      maxRequests: 3000,
      maxSeconds: 5,
    });
    const config = runtime.resources.find(
      (r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name.startsWith("verification"),
    )!;
    const job = JSON.parse((config.inputs as { data: Record<string, string> }).data[JOB_CONFIG_KEY]!);
    expect(job.targets[0]).not.toHaveProperty("edge");
    expect(job.targets[0].url).toBe("http://bge-large-zh.retrieval.svc:8000");
  });
});

describeWithTool(NGINX_TOOL, "public-path limits against the real nginx", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-edge-"));
  let engine: FakeServer;
  const started: ChildProcess[] = [];

  beforeAll(async () => {
    fs.chmodSync(dir, 0o777);
    engine = await startFakeServer({ dialect: "sglang", servedModel: MODEL.name, dims: 1024 });
  });
  afterAll(async () => {
    for (const p of started) await stopNginx(p);
    await engine?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("proves both limits through an ingress that enforces them, and no probe reaches the engine", async () => {
    const nginx = await nginxFor(dir, engine);
    started.push(nginx.process);
    const report = await verifyTarget(target(nginx.url), OPTIONS);
    const body = row(report.checks, "edge.body-limit");
    const rate = row(report.checks, "edge.rate-limit");
    expect(body, body.got).toMatchObject({ status: "pass" });
    // Expect: 100-continue: nginx refuses from the headers, not one body byte goes out.
    expect(body.got).toMatch(/HTTP 413 from the ingress.*; 0 of 66,560 bytes sent/);
    expect(rate, rate.got).toMatchObject({ status: "pass" });
    expect(rate.got).toMatch(
      /429 from the ingress \(rate_limit_error, Retry-After 1\) after \d+ requests .*x 401.*x 429/,
    );
    expect(rate.got).toMatch(/admitted again after \d+\.\d s/);
    expect(
      report.pass,
      report.checks
        .filter((c) => c.status === "fail")
        .map((c) => c.got)
        .join("\n"),
    ).toBe(true);
    // Every request the engine saw carried the model's small, valid calls of the other checks; no probe body.
    expect(engine.log.every((r) => r.path.startsWith("/v1/") || r.path === "/health")).toBe(true);
    expect(engine.log.filter((r) => JSON.stringify(r.body ?? "").includes("ping"))).toEqual([]);
  }, 60_000);

  it("verify --stack-outputs runs them on the public path; --no-limit-checks skips both", async () => {
    const nginx = await nginxFor(dir, engine);
    started.push(nginx.process);
    const outputs = JSON.stringify({
      verification: {
        options: { requests: 4, concurrency: 1, timeoutSeconds: 30, requestTimeoutSeconds: 5, maxRetries: 0 },
        targets: [
          {
            ...target("http://bge-large-zh.retrieval.svc:8000"),
            route: undefined,
            publicUrl: `${nginx.url}${ROUTE.publicPath}`,
          },
        ],
      },
      verificationApiKey: KEYS[0],
    });
    const run = async (...extra: string[]) => {
      let out = "";
      const code = await main(["verify", "--stack-outputs", "-", "--quiet", "--json", ...extra], {
        stdout: (t) => (out += t),
        stderr: () => {},
        env: {},
        stdin: () => outputs,
      });
      const report = JSON.parse(out) as { targets: { checks: CheckResult[] }[] };
      return { code, rows: report.targets[0]!.checks };
    };
    const on = await run();
    expect(on.code).toBe(0);
    expect(row(on.rows, "edge.body-limit").status).toBe("pass");
    expect(row(on.rows, "edge.rate-limit").status).toBe("pass");
    const off = await run("--no-limit-checks");
    expect(off.code).toBe(0);
    expect(row(off.rows, "edge.body-limit").status).toBe("skip");
    expect(row(off.rows, "edge.rate-limit").status).toBe("skip");
    // --in-cluster: no ingress in between, so no edge to check (the Service URL is not reachable here: not run).
    expect(targetsFromStackOutputs(JSON.parse(outputs), true).targets[0]).not.toHaveProperty("edge");
  }, 60_000);

  it("fails, naming the limit and the fix, when the ingress lets a body over the configured limit through", async () => {
    // The stack is configured with 64k, but this ingress enforces 1m.
    const nginx = await nginxFor(dir, engine, { ...INGRESS, maxBodySize: "1m" });
    started.push(nginx.process);
    const rows = await edgeOnly(nginx.url, EDGE, {
      ...OPTIONS,
      publicPathLimits: { ...OPTIONS.publicPathLimits!, rateLimit: false },
    });
    const body = row(rows, "edge.body-limit");
    expect(body.status).toBe("fail");
    // The over-limit body reached the key check (401), never an engine: the probe carries a throw-away key.
    expect(body.got).toMatch(/^HTTP 401: the ingress let a body over its 64k limit through/);
    expect(body.got).toMatch(/Fix: the ingress must refuse bodies over 64k/);
    expect(row(rows, "edge.rate-limit")).toMatchObject({ status: "skip" });
  }, 30_000);

  it("fails, naming the limit and the fix, when the ingress does not enforce the configured rate", async () => {
    // Configured: 50 r/s + burst 50. This ingress admits 10,000 r/s.
    const nginx = await nginxFor(dir, engine, { ...INGRESS, rateLimit: { requestsPerSecond: 10000, burst: 10000 } });
    started.push(nginx.process);
    const t0 = performance.now();
    const rows = await edgeOnly(nginx.url, EDGE);
    const rate = row(rows, "edge.rate-limit");
    expect(rate.status).toBe("fail");
    expect(rate.got).toMatch(
      /^no 429 from the ingress: \d+ requests in [\d.]+ s \(\d+ x 401\), \d+ of them let through while its limit of 50 r\/s \+ burst 50 over 1 controller pod\(s\) admits at most \d+ by then; the rate limit is not enforced/,
    );
    expect(rate.got).toMatch(/Fix: the route's rate-limit Policy must be attached and accepted/);
    // Bounded: it stops as soon as the count passes what the limit admits, far below maxRequests.
    const sent = Number(/^no 429 from the ingress: (\d+) requests/.exec(rate.got)![1]);
    expect(sent).toBeLessThan(1000);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(row(rows, "edge.body-limit").status).toBe("pass");
  }, 30_000);
});

/** A stand-in "ingress" on 127.0.0.1 that answers every POST with `answer(n)` after reading the whole body. */
async function fakeIngress(answer: (n: number) => { status: number; body: string; headers?: Record<string, string> }) {
  let n = 0;
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on("data", (c: Buffer) => (bytes += c.length));
    req.on("end", () => {
      const a = answer(++n);
      res.writeHead(a.status, { "content-type": "application/json", ...a.headers }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => n,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("public-path limits against misbehaving servers", () => {
  const small: PublicEdgeInput = { ...EDGE, rateLimit: { ...EDGE.rateLimit!, requestsPerSecond: 5, burst: 5 } };
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it("names a 413 that came from behind the ingress (the engine's own answer) as the ingress not enforcing", async () => {
    const s = await fakeIngress(() => ({ status: 413, body: '{"detail":"Request too large"}' }));
    closers.push(s.close);
    const rows = await edgeOnly(s.url, small, {
      ...OPTIONS,
      publicPathLimits: { ...OPTIONS.publicPathLimits!, rateLimit: false },
    });
    const body = row(rows, "edge.body-limit");
    expect(body.status).toBe("fail");
    expect(body.got).toMatch(
      /HTTP 413 with another body than the ingress's: "\{\\"detail\\":\\"Request too large\\"\}"/,
    );
    expect(body.got).toMatch(
      /something behind it \(the engine or the gateway\) refused the body, so the ingress did not enforce its 64k limit/,
    );
    // The server read the whole body: the probe sent limit + 1 KiB, no more.
    expect(body.got).toMatch(/66,560 of 66,560 bytes sent/);
  });

  it("fails a 429 that is not the ingress's page (an HTML error from another proxy)", async () => {
    const s = await fakeIngress((n) =>
      n <= 5
        ? { status: 401, body: JSON.stringify(unauthorized().body) }
        : {
            status: 429,
            body: "<html><body>Too Many Requests</body></html>",
            headers: { "content-type": "text/html" },
          },
    );
    closers.push(s.close);
    const rows = await edgeOnly(s.url, small);
    const rate = row(rows, "edge.rate-limit");
    expect(rate.status).toBe("fail");
    expect(rate.got).toMatch(
      /^HTTP 429 with a body that is not the ingress's JSON error: "<html>.*the 429 is not the ingress's page/,
    );
  });

  it("fails a 429 with the ingress's body but without Retry-After", async () => {
    const s = await fakeIngress((n) =>
      n <= 5
        ? { status: 401, body: JSON.stringify(unauthorized().body) }
        : { status: 429, body: JSON.stringify(rateLimited(MODEL.name).body) },
    );
    closers.push(s.close);
    const rate = row(await edgeOnly(s.url, small), "edge.rate-limit");
    expect(rate.status).toBe("fail");
    expect(rate.got).toMatch(/^HTTP 429 with the ingress's body but no Retry-After header/);
  });

  it("fails when an unknown key is admitted (the route has no key check)", async () => {
    const s = await fakeIngress(() => ({ status: 200, body: '{"data":[]}' }));
    closers.push(s.close);
    const rate = row(await edgeOnly(s.url, small), "edge.rate-limit");
    expect(rate.status).toBe("fail");
    expect(rate.got).toMatch(/^HTTP 200 for a key the stack never issued: the ingress admitted it/);
  });

  it("fails when the limit never clears, within its bound", async () => {
    const s = await fakeIngress((n) =>
      n <= 5
        ? { status: 401, body: JSON.stringify(unauthorized().body) }
        : { status: 429, body: JSON.stringify(rateLimited(MODEL.name).body), headers: { "retry-after": "1" } },
    );
    closers.push(s.close);
    const t0 = performance.now();
    const rate = row(
      await edgeOnly(s.url, small, { ...OPTIONS, publicPathLimits: { ...OPTIONS.publicPathLimits!, maxSeconds: 1 } }),
      "edge.rate-limit",
    );
    expect(rate.status).toBe("fail");
    expect(rate.got).toMatch(/but the key was still refused 1 s later: the limit does not clear at 5 r\/s/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("reports an inconclusive burst as skipped, never as passed, when it cannot outrun the rate", async () => {
    const s = await fakeIngress(() => ({ status: 401, body: JSON.stringify(unauthorized().body) }));
    closers.push(s.close);
    const huge: PublicEdgeInput = {
      ...EDGE,
      rateLimit: { ...EDGE.rateLimit!, requestsPerSecond: 1_000_000, burst: 1_000_000 },
    };
    const rate = row(
      await edgeOnly(s.url, huge, {
        ...OPTIONS,
        publicPathLimits: { ...OPTIONS.publicPathLimits!, bodySize: false, maxRequests: 50 },
      }),
      "edge.rate-limit",
    );
    expect(rate.status).toBe("skip");
    expect(rate.got).toMatch(/^inconclusive: 50 requests in/);
    expect(s.requests()).toBe(50);
  });

  it("sends nothing when both checks are turned off", async () => {
    const s = await fakeIngress(() => ({ status: 500, body: "{}" }));
    closers.push(s.close);
    const rows = await edgeOnly(s.url, small, {
      ...OPTIONS,
      publicPathLimits: { ...DEFAULT_PUBLIC_PATH_LIMITS, bodySize: false, rateLimit: false },
    });
    expect(rows.map((r) => [r.check, r.status])).toEqual([
      ["edge.body-limit", "skip"],
      ["edge.rate-limit", "skip"],
    ]);
    expect(rows[0]!.got).toMatch(/verification\.publicPathLimits\.bodySize: false/);
    expect(s.requests()).toBe(0);
  });
});
