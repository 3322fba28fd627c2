import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import { Gateway } from "../images/gateway/src/server";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";

/**
 * Keys change without a restart: a real gateway on 127.0.0.1 reads its keys from a file as kubelet mounts a
 * Secret (an atomic swap of the file, as kubelet's symlink swap), polls it, and then refuses a revoked key and
 * accepts a new one; a malformed update is refused, counted, and the last good set stays in force.
 */
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const OLD = "old-key-0123456789abcdef";
const NEW = "new-key-0123456789abcdef";
const POLL_MS = 100;

let engine: FakeServer;
let gateway: Gateway;
let url: string;
let metricsUrl: string;
let dir: string;
let file: string;

/** Writes the key file the way kubelet updates a mounted Secret: never a half-written file. */
function publish(text: string): void {
  const tmp = path.join(dir, `.keys-${Date.now()}-${Math.random()}`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

beforeAll(async () => {
  engine = await startFakeServer({ dialect: "tei", servedModel: "emb", dims: 512 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-keys-"));
  file = path.join(dir, "keys.json");
  publish(JSON.stringify([{ name: "team-old", sha256: [sha(OLD)] }]));
  const config = RuntimeConfigSchema.parse({
    models: [
      {
        name: "emb",
        task: "embed",
        dialect: "tei",
        upstreams: [engine.url],
        dims: 512,
        maxTokens: 512,
        ownedBy: "tei",
      },
    ],
    limits: { requestsPerSecond: 1000, burst: 1000 },
    redis: { onDown: "fail-open" },
    maxBodyBytes: 1 << 20,
    maxInputs: 64,
    maxDocuments: 64,
    upstreamTimeoutMs: 5000,
    attempts: 1,
    breaker: { failures: 5, cooldownMs: 1000 },
    metricsPort: 0,
  });
  gateway = new Gateway({ config, audit: () => {}, log: () => {}, keysFile: file, keysPollMs: POLL_MS });
  url = `http://127.0.0.1:${await gateway.listen(0)}`;
  metricsUrl = `http://127.0.0.1:${gateway.metricsPort}`;
}, 30_000);

afterAll(async () => {
  await gateway?.shutdown();
  await engine?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const status = (key: string) =>
  fetch(`${url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "emb", input: "hello" }),
  }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

/** Polls until `check` holds; returns how long it took (bounded). */
async function until(check: () => Promise<boolean>, maxMs = 5000): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > maxMs) throw new Error(`not within ${maxMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - t0;
}

const metric = async (name: string) =>
  (await (await fetch(`${metricsUrl}/metrics`)).text()).split("\n").find((l) => l.startsWith(name)) ?? "";

describe("keys from the mounted Secret, re-read while running", () => {
  it("a revoked key is refused and a new one accepted within a poll, without a restart", async () => {
    expect(await status(OLD)).toBe(200); // now cached as verified: revocation must clear that too
    expect(await status(NEW)).toBe(401);
    publish(JSON.stringify([{ name: "team-new", sha256: [sha(NEW)] }]));
    const took = await until(async () => (await status(OLD)) === 401 && (await status(NEW)) === 200);
    expect(took).toBeLessThan(POLL_MS * 20);
    expect(await metric('retrieval_gateway_keys_loaded{what="count"}')).toMatch(/ 1$/);
  });

  it("a malformed update keeps the last good keys and is counted (the alert's signal)", async () => {
    publish('[{"name": "team-broken", "sha256": ["not-a-hash"]}]');
    await until(async () => (await metric("retrieval_gateway_keys_reload_failures_total")).endsWith(" 1"));
    expect(await status(NEW)).toBe(200);
    publish("{ not json");
    await until(async () => (await metric("retrieval_gateway_keys_reload_failures_total")).endsWith(" 2"));
    expect(await status(NEW)).toBe(200);
    expect(await status(OLD)).toBe(401);
  });
});

describe("npm run key", () => {
  it("prints the config lines whose hash the gateway accepts for the printed key, and refuses a bad name (exit 2)", async () => {
    const { execFileSync, spawnSync } = await import("node:child_process");
    const out = execFileSync("npx", ["tsx", "scripts/key.ts", "--name", "team-a", "--models", "emb", "--rps", "5"], {
      encoding: "utf8",
    });
    const key = /^#   ([0-9a-f]{48})$/m.exec(out)![1]!;
    const hash = /sha256\[0\]' ([0-9a-f]{64})$/m.exec(out)![1]!;
    expect(hash).toBe(sha(key));
    expect(out).toContain("pulumi config set --path 'retrieval-stack:gateway.keys.team-a.models[0]' emb");
    expect(out).toContain("pulumi config set --path 'retrieval-stack:gateway.keys.team-a.limits.requestsPerSecond' 5");
    const bad = spawnSync("npx", ["tsx", "scripts/key.ts", "--name", "Team A"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/must be a DNS label[\s\S]*usage: npm run key/);
  }, 30_000);
});
