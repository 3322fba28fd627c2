import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, ROOT } from "./run-cli";
import { closedPortUrl, startFakeServer, type FakeServer } from "./fixtures/engine-server";

// The CLI as users run it: a separate process (tsx runs the TypeScript entry point; `npm run build` compiles
// the same file to dist/images/verifier/src/cli.js, which package.json "bin" names).
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const CLI = path.join(ROOT, "images", "verifier", "src", "cli.ts");
const cli = (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
  run(TSX, [CLI, ...args], { timeoutMs: 60_000, ...options });
const FAST = ["--requests", "8", "--concurrency", "2", "--timeout", "20", "--request-timeout", "3"];

let good: FakeServer;
let badDims: FakeServer;
let reranker: FakeServer;
let dir: string;

beforeAll(async () => {
  [good, badDims, reranker] = await Promise.all([
    startFakeServer({ dialect: "vllm", servedModel: "BAAI/bge-large-zh-v1.5" }),
    startFakeServer({ dialect: "sglang", servedModel: "bge-large-zh", fault: "wrong-dims" }),
    startFakeServer({ dialect: "tei" }),
  ]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-cli-"));
});

afterAll(async () => {
  await Promise.all([good, badDims, reranker].map((s) => s?.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What `pulumi stack output --json` prints for a stack with these models (only the part the CLI reads, plus noise). */
function stackOutputs() {
  const target = (
    name: string,
    url: string,
    dialect: string,
    task: string,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> => ({ name, url, dialect, task, servedModel: name, normalized: false, ...extra });
  return {
    environmentName: "dev",
    modelEndpoints: { a: "http://a.retrieval.svc.cluster.local" },
    verification: {
      options: {
        requests: 8,
        concurrency: 2,
        timeoutSeconds: 20,
        requestTimeoutSeconds: 3,
        maxRetries: 1,
        quality: { enabled: false, minMrrAt10: 0.75 },
      },
      targets: [
        target("bge-large-zh", badDims.url, "sglang", "embed", {
          dims: 1024,
          modelId: "BAAI/bge-large-zh-v1.5",
          normalized: true,
          sloP99Ms: 2000,
        }),
        // Called through its "public route": the fake TEI answers /rerank, so the route is the engine path itself.
        target("bge-reranker-base", "http://in-cluster.invalid", "tei", "rerank", {
          sloP99Ms: 2000,
          publicUrl: `${reranker.url}/rerank`,
        }),
      ],
    },
  };
}

describe.concurrent("retrieval-stack verify, as a process", () => {
  it("passes against a correct vLLM server: exit 0, progress on stderr, the table on stdout", async () => {
    const r = await cli([
      "verify",
      "--engine",
      "vllm",
      "--url",
      good.url,
      "--model",
      "BAAI/bge-large-zh-v1.5",
      "--task",
      "embed",
      "--slo-p99",
      "2000",
      ...FAST,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("[BAAI/bge-large-zh-v1.5] health: PASS");
    expect(r.stdout).toMatch(/^check +\| expected +\| got +\| time +\| result$/m);
    // dims from the catalogue: 1024 for bge-large-zh-v1.5
    expect(r.stdout).toMatch(
      /^embed\.dims +\| 1024 dimensions in every vector \(BAAI\/bge-large-zh-v1\.5\) +\| 1024 in all 9 vectors +\| +\d+ ms +\| PASS$/m,
    );
    expect(r.stdout).toMatch(/verification passed: 1 model\(s\)/);
  });

  it("fails against a server with the wrong dimension: exit 1, the FAIL row says expected and got", async () => {
    const r = await cli([
      "verify",
      "--engine",
      "sglang",
      "--url",
      badDims.url,
      "--model",
      "bge-large-zh",
      "--model-id",
      "BAAI/bge-large-zh-v1.5",
      "--task",
      "embed",
      ...FAST,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^embed\.dims +\| 1024 dimensions in every vector \(BAAI\/bge-large-zh-v1\.5\) +\| 768 in all 9 vectors +\| +\d+ ms +\| FAIL$/m,
    );
    expect(r.stdout).toMatch(/verification FAILED: bge-large-zh\/embed\.single, bge-large-zh\/embed\.dims/);
    expect(r.stderr).toMatch(/embed\.dims: FAIL \(\d+ ms\) - got 768 in all 9 vectors/);
  });

  it("--json prints a machine-readable report and nothing else on stdout", async () => {
    const r = await cli([
      "verify",
      "--engine",
      "tei",
      "--url",
      reranker.url,
      "--model",
      "bge-reranker-base",
      "--task",
      "rerank",
      "--json",
      ...FAST,
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      pass: true,
      targets: [{ name: "bge-reranker-base", dialect: "tei", task: "rerank", pass: true }],
    });
    expect(report.targets[0].checks.map((c: { check: string }) => c.check)).toEqual(
      expect.arrayContaining(["health", "rerank.best-first", "rerank.indices", "rerank.scores", "latency.p99"]),
    );
  });

  it("--engine openai uses the OpenAI/Cohere shapes; a refused connection fails with exit 1", async () => {
    const r = await cli([
      "verify",
      "--engine",
      "openai",
      "--url",
      await closedPortUrl(),
      "--model",
      "m",
      "--task",
      "embed",
      "--json",
      "--retries",
      "0",
      ...FAST.slice(0, 4),
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.targets[0].checks[0]).toMatchObject({
      check: "health",
      status: "fail",
      expected: "HTTP 200 from GET /v1/models",
    });
    expect(report.targets[0].checks[0].got).toMatch(/connection refused/);
  });

  it("--stack-outputs <file>: every model of the stack, public routes, exit 1 when one fails", async () => {
    const file = path.join(dir, "outputs.json");
    fs.writeFileSync(file, JSON.stringify(stackOutputs()));
    const r = await cli(["verify", "--stack", "dev", "--stack-outputs", file, "--json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.targets.map((t: { name: string; pass: boolean }) => [t.name, t.pass])).toEqual([
      ["bge-large-zh", false],
      ["bge-reranker-base", true],
    ]);
    // Through the route: health is not routed (skipped), the task endpoint is the public path.
    const rr = report.targets[1];
    expect(rr.url).toBe(`${reranker.url}/rerank`);
    expect(rr.checks[0]).toMatchObject({ check: "health", status: "skip" });
  });

  it("--stack-outputs: the stack's secret verificationApiKey output is sent (shown by --show-secrets)", async () => {
    const keyed = await startFakeServer({ dialect: "tei", apiKey: "stack-key-0123456789abcdef" });
    try {
      const outputs = stackOutputs();
      outputs.verification.targets = [{ ...outputs.verification.targets[1]!, publicUrl: `${keyed.url}/rerank` }];
      const ok = await cli(["verify", "--stack-outputs", "-", "--quiet"], {
        input: JSON.stringify({ ...outputs, verificationApiKey: "stack-key-0123456789abcdef" }),
      });
      expect(ok.code, ok.stdout).toBe(0);
      const hidden = await cli(["verify", "--stack-outputs", "-", "--quiet", "--retries", "0"], {
        input: JSON.stringify({ ...outputs, verificationApiKey: "[secret]" }),
      });
      expect(hidden.code).toBe(1);
      expect(hidden.stdout).toMatch(/HTTP 401/);
    } finally {
      await keyed.close();
    }
  });

  it("--stack-outputs - reads stdin", async () => {
    const outputs = stackOutputs();
    outputs.verification.targets = outputs.verification.targets.slice(1);
    const r = await cli(["verify", "--stack-outputs", "-", ...FAST.slice(0, 4)], { input: JSON.stringify(outputs) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `bge-reranker-base (bge-reranker-base, rerank, tei dialect) at ${reranker.url}/rerank: PASS`,
    );
  });

  it("usage errors exit 2 with the reason; --stack without a pulumi CLI says how to pass the outputs", async () => {
    const missing = await cli(["verify", "--engine", "vllm", "--url", good.url, "--task", "embed"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--model is required");
    const badEngine = await cli(["verify", "--engine", "triton", "--url", good.url, "--model", "m", "--task", "embed"]);
    expect(badEngine.stderr).toContain(
      '--engine must be one of vllm, sglang, tei, kserve, xinference, openai, got "triton"',
    );
    const noPulumi = await cli(["verify", "--stack", "prod"], { env: { PATH: path.dirname(process.execPath) } });
    expect(noPulumi.code).toBe(2);
    expect(noPulumi.stderr).toMatch(
      /cannot read the outputs of stack "prod": the pulumi CLI is not on PATH\. Pass them with --stack-outputs/,
    );
    const notJson = await cli(["verify", "--stack-outputs", "-"], { input: "<html>" });
    expect(notJson.stderr).toMatch(/stack outputs are not JSON/);
  });

  it("argument mistakes: one line naming the mistake and the likely intent, the usage, exit 2, no stack trace", async () => {
    const cases: [string[], string, NodeJS.ProcessEnv?][] = [
      [["verify", "--stak", "dev"], "unknown option --stak (did you mean --stack?)"],
      [["verify", "--url"], "--url needs a value (e.g. --url http://127.0.0.1:8000)"],
      [["verify", "--json=yes"], "--json takes no value (write --json alone to turn it on)"],
      [["verfy", "--stack", "dev"], 'unexpected argument "verfy" (did you mean "verify"?): every setting is a --flag'],
      // `npm run verify --stack dev`: npm keeps --stack (npm_config_stack=true) and passes "dev" on.
      [
        ["dev"],
        'npm kept --stack for itself (did you forget "--"?): write npm run verify -- --stack ... (npm passed on only: dev)',
        { npm_lifecycle_event: "verify", npm_config_stack: "true" },
      ],
      // `npm run verify --engine vllm ...`: npm expands --engine to its own engine-strict.
      [
        ["vllm", "http://x", "m", "embed"],
        'npm kept --engine, --url, --model, --task for itself (did you forget "--"?)',
        {
          npm_lifecycle_event: "verify",
          npm_config_engine_strict: "true",
          npm_config_url: "true",
          npm_config_model: "true",
          npm_config_task: "true",
        },
      ],
    ];
    for (const [args, message, env] of cases) {
      const r = await cli(args, { env });
      expect(r.code, args.join(" ")).toBe(2);
      const [first, blank, usage] = r.stderr.split("\n");
      expect(first).toContain(message);
      expect(blank).toBe("");
      expect(usage).toMatch(
        /^Usage \(from a checkout: npm run verify -- <flags>; installed: npx retrieval-stack verify <flags>\):$/,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack frames
      expect(r.stdout).toBe("");
    }
  });

  it("the command word is optional (npm run verify -- <flags> runs the file without it)", async () => {
    const r = await cli([
      "--engine",
      "tei",
      "--url",
      reranker.url,
      "--model",
      "m",
      "--task",
      "rerank",
      "--quiet",
      ...FAST,
    ]);
    expect(r.code, r.stderr).toBe(0);
  });

  it("a refused connection's row wraps instead of being cut: the whole message is in the table", async () => {
    const url = await closedPortUrl();
    const r = await cli([
      "verify",
      "--engine",
      "vllm",
      "--url",
      url,
      "--model",
      "m",
      "--task",
      "embed",
      "--retries",
      "0",
    ]);
    expect(r.code).toBe(1);
    const table = r.stdout.split("\n").filter((l) => /^(health|\s+)\s*\|/.test(l));
    const got = table.map((l) => l.split("|")[2]!.trim()).join(" ");
    expect(got).toBe(`connection refused by ${url}/health (nothing listens there)`);
    expect(r.stdout).not.toContain("...");
  });

  it("--model-id not in the catalogue: the dims row says the size is not checked and suggests --dims", async () => {
    const r = await cli([
      "verify",
      "--engine",
      "vllm",
      "--url",
      good.url,
      "--model",
      "BAAI/bge-large-zh-v1.5",
      "--model-id",
      "acme/private-embedder",
      "--task",
      "embed",
      "--json",
      ...FAST,
    ]);
    const dims = JSON.parse(r.stdout).targets[0].checks.find((c: { check: string }) => c.check === "embed.dims");
    expect(dims.expected).toBe(
      'the same dimension in every vector (size NOT checked: "acme/private-embedder" is not in the model catalogue; pass --dims N, or set the model\'s dimensions)',
    );
    const withDims = await cli([
      "verify",
      "--engine",
      "vllm",
      "--url",
      good.url,
      "--model",
      "BAAI/bge-large-zh-v1.5",
      "--model-id",
      "acme/private-embedder",
      "--dims",
      "768",
      "--task",
      "embed",
      "--json",
      ...FAST,
    ]);
    expect(withDims.code).toBe(1); // the server answers 1024
  });

  it("multi-model runs say on stderr which model of how many starts and how it ended", async () => {
    const file = path.join(dir, "progress.json");
    fs.writeFileSync(file, JSON.stringify(stackOutputs()));
    const r = await cli(["verify", "--stack-outputs", file]);
    expect(r.stderr).toMatch(/^\[1\/2 bge-large-zh\] verifying\.\.\.$/m);
    expect(r.stderr).toMatch(/^\[1\/2 bge-large-zh\] FAIL \(embed\.single, embed\.dims\): \d+ checks in [\d.]+ s$/m);
    expect(r.stderr).toMatch(/^\[2\/2 bge-reranker-base\] verifying\.\.\.$/m);
    expect(r.stderr).toMatch(/^\[2\/2 bge-reranker-base\] PASS: \d+ checks in [\d.]+ s$/m);
  });

  it("the built entry point starts with a node shebang (package.json bin)", () => {
    expect(fs.readFileSync(CLI, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.bin["retrieval-stack"]).toBe("dist/images/verifier/src/cli.js");
  });
});
