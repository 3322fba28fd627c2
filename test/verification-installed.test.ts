import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { ROOT, run } from "./run-cli";

// ---------------------------------------------------------------------------------------------------------
// Both documented forms of the verify command, run as a user types them (docs/verification.md):
// - from a checkout: `npm run verify -- <flags>` (npm, the package.json script, tsx);
// - installed: `npx retrieval-stack verify <flags>` in a project that installed the package (package.json "bin"
//   -> dist/images/verifier/src/cli.js, compiled here by the project's own tsc build config into a copy of the
//   package, then installed with npm, offline, as a directory dependency).
// ---------------------------------------------------------------------------------------------------------

const FAST = ["--requests", "8", "--concurrency", "2", "--timeout", "20", "--request-timeout", "3"];
let dir: string;
let consumer: string;
let engine: FakeServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-installed-"));
  engine = await startFakeServer({ dialect: "tei", servedModel: "bge-reranker-base" });
  const pkg = path.join(dir, "retrieval-stack");
  fs.mkdirSync(pkg);
  fs.copyFileSync(path.join(ROOT, "package.json"), path.join(pkg, "package.json"));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(pkg, "node_modules"));
  const tsc = await run(
    path.join(ROOT, "node_modules", ".bin", "tsc"),
    ["-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", path.join(pkg, "dist")],
    { timeoutMs: 280_000 },
  );
  expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  consumer = path.join(dir, "consumer");
  fs.mkdirSync(consumer);
  fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true }));
  const install = await run(
    "npm",
    ["install", "--no-save", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", pkg],
    { cwd: consumer, timeoutMs: 120_000 },
  );
  expect(install.code, install.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await engine?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const args = () => [
  "--engine",
  "tei",
  "--url",
  engine.url,
  "--model",
  "bge-reranker-base",
  "--task",
  "rerank",
  ...FAST,
];

describe("the verify command as documented", () => {
  it("from a checkout: npm run verify -- <flags>", async () => {
    const r = await run("npm", ["run", "--silent", "verify", "--", ...args()], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verification passed: 1 model\(s\)/);
  });

  it("from a checkout, without --: one line saying so, the usage, exit 2", async () => {
    const r = await run("npm", ["run", "--silent", "verify", "--stack", "dev"], { timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      'npm kept --stack for itself (did you forget "--"?): write npm run verify -- --stack ... (npm passed on only: dev)',
    );
  });

  it("installed: npx retrieval-stack verify <flags>", async () => {
    const bin = path.join(consumer, "node_modules", ".bin", "retrieval-stack");
    expect(fs.realpathSync(bin)).toBe(
      path.join(fs.realpathSync(dir), "retrieval-stack", "dist", "images", "verifier", "src", "cli.js"),
    );
    const r = await run("npx", ["--no-install", "retrieval-stack", "verify", ...args()], {
      cwd: consumer,
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verification passed: 1 model\(s\)/);
    const typo = await run("npx", ["--no-install", "retrieval-stack", "verify", "--stak", "dev"], { cwd: consumer });
    expect(typo.code).toBe(2);
    expect(typo.stderr.split("\n")[0]).toBe("unknown option --stak (did you mean --stack?)");
  });
});
