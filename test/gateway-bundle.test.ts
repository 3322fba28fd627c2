import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stop as stopEsbuild } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleGateway, GATEWAY_BUNDLE_FILE } from "../images/gateway/bundle";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { freePort } from "./free-port";

/**
 * The artefact the gateway image ships: images/gateway/src/main.ts bundled into one file (npm run
 * build:gateway's options), free of @pulumi, run as the image's ENTRYPOINT runs it, from a directory with no
 * node_modules, against a fake TEI engine.
 */
let work: string;
let bundle: Awaited<ReturnType<typeof bundleGateway>>;
let tei: FakeServer;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-bundle-"));
  [bundle, tei] = await Promise.all([
    bundleGateway(path.join(work, "dist")),
    startFakeServer({ dialect: "tei", servedModel: "bge", dims: 512 }),
  ]);
}, 120_000);

afterAll(async () => {
  // esbuild's build service outlives the build until stopped.
  await stopEsbuild();
  await tei?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

describe("gateway bundle", () => {
  it("holds no @pulumi package and stays small", () => {
    const inputs = Object.keys(bundle.metafile.inputs);
    expect(inputs.some((i) => i.includes("node_modules/@pulumi/"))).toBe(false);
    expect(inputs.some((i) => i.includes("components/serving/dialects/tei.ts"))).toBe(true);
    expect(bundle.packages.map((p) => p.name)).toEqual(expect.arrayContaining(["undici", "ioredis", "jose", "zod"]));
    expect(bundle.bytes).toBeLessThan(4 * 1024 * 1024);
    expect(fs.readFileSync(path.join(work, "dist", "THIRD_PARTY_NOTICES.txt"), "utf8")).toMatch(/undici@7\.30\.2/);
  });

  it("runs as the image runs it: key hashes from the Secret file, an embedding served, exit 0 on SIGTERM", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-run-"));
    fs.copyFileSync(path.join(work, "dist", GATEWAY_BUNDLE_FILE), path.join(dir, "server.js"));
    const key = "bundle-key-0123456789abcdef";
    const { createHash } = await import("node:crypto");
    const config = {
      models: [
        { name: "bge", task: "embed", dialect: "tei", upstreams: [tei.url], dims: 512, maxTokens: 512, ownedBy: "tei" },
      ],
      limits: { requestsPerSecond: 50, burst: 10 },
      redis: { onDown: "fail-closed" },
      maxBodyBytes: 100000,
      maxInputs: 10,
      maxDocuments: 10,
      upstreamTimeoutMs: 5000,
      attempts: 1,
      breaker: { failures: 3, cooldownMs: 1000 },
    };
    const keys = [{ name: "ci", sha256: [createHash("sha256").update(key).digest("hex")] }];
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
    fs.writeFileSync(path.join(dir, "keys.json"), JSON.stringify(keys));
    const port = await freePort();
    const child = spawn(process.execPath, ["--enable-source-maps", path.join(dir, "server.js")], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        GATEWAY_CONFIG_FILE: path.join(dir, "config.json"),
        GATEWAY_KEYS_FILE: path.join(dir, "keys.json"),
        PORT: String(port),
        HOST: "127.0.0.1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    try {
      for (let i = 0; i < 200 && !/listening/.test(err); i++) await new Promise((r) => setTimeout(r, 50));
      expect(err).toMatch(/listening on :\d+ \(1 models; metrics on :\d+\)/);
      expect((await fetch(`http://127.0.0.1:${port}/v1/models`)).status).toBe(401);
      const r = await fetch(`http://127.0.0.1:${port}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "bge", input: ["a", "b"], encoding_format: "float" }),
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { data: { embedding: number[] }[] }).data[1]!.embedding).toHaveLength(512);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
