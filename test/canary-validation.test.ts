import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CanaryTargetSchema } from "../components/contracts/canary";
import { Registry } from "../images/canary/src/metrics";
import { runTarget } from "../images/canary/src/run";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { ROOT } from "./run-cli";

/** The canary's faults from #23, over real sockets: scoring invalid answers, a taken metrics port. */
const servers: FakeServer[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "canary-validation-"));
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});
const config = { requestTimeoutSeconds: 5, maxRetries: 0, intervalSeconds: 60 };

describe("the canary never scores an answer that failed validation", () => {
  it("a reranker that duplicates indices: sanity fails and quality fails unscored (it used to 'pass' with MRR 0.056)", async () => {
    const s = await startFakeServer({ dialect: "vllm", servedModel: "dup", fault: "dup-index" });
    servers.push(s);
    const registry = new Registry();
    const lines: string[] = [];
    const target = CanaryTargetSchema.parse({
      name: "dup",
      url: s.url,
      dialect: "vllm",
      task: "rerank",
      servedModel: "dup",
    });
    const result = await runTarget(target, config, registry, { log: (l) => lines.push(l) });
    expect(result).toEqual({ health: true, sanity: false, "quality.bundled": false });
    expect(registry.get("checkSuccess", { model: "dup", check: "quality.bundled" })).toBe(0);
    expect(registry.get("mrrAt10", { model: "dup", set: "bundled" })).toBeUndefined();
    expect(registry.get("ndcgAt10", { model: "dup", set: "bundled" })).toBeUndefined();
    expect(lines.join("\n")).toMatch(/quality\.bundled FAIL \([\d.]+ s\) "[^"]+": index \d+ appears twice/);
  });
});

describe("the canary's start-up", () => {
  it("its metrics port taken: a clear error and exit 2, no stack trace", async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as net.AddressInfo).port;
    const file = path.join(dir, "canary.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        host: "127.0.0.1",
        port,
        targets: [{ name: "rr", url: "http://127.0.0.1:1", dialect: "vllm", task: "rerank", servedModel: "rr" }],
      }),
    );
    try {
      const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "images/canary/src/main.ts")], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, CANARY_CONFIG_FILE: file },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      const code = await new Promise((r) => child.once("exit", r));
      expect(code).toBe(2);
      expect(out).toContain(
        `canary failed to start: cannot serve /metrics on 127.0.0.1:${port}: the port is already in use (another process listens there).`,
      );
      expect(out).not.toMatch(/^\s+at /m);
    } finally {
      holder.close();
    }
  }, 60_000);
});
