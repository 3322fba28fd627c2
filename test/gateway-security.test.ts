import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { gatewayStack, KEY_A, KEY_B } from "./gateway-stack";

/**
 * The gateway as an attacker meets it (issue #21, "Refuse before working", "Identity and scope"): one gateway
 * process on 127.0.0.1 in front of fake TEI engines; attackers and callers on other loopback addresses.
 */
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const PROXY = "127.0.0.3"; // stands for the ingress controller: trusted for X-Forwarded-For
let gw: GatewayProcess;
let tei: FakeServer;
let rr: FakeServer;

beforeAll(async () => {
  tei = await startFakeServer({ dialect: "tei", servedModel: "emb-tei", dims: 512 });
  rr = await startFakeServer({ dialect: "tei", servedModel: "rr-tei" });
  const stack = writeStack(
    tempDir(),
    gatewayStack({
      keys: {
        "team-a": { sha256: [sha(KEY_A)] },
        "team-scoped": { sha256: [sha(KEY_B)], models: ["emb-tei", "search"] },
      },
      aliases: { search: { targets: [{ model: "rr-tei" }] } },
      trustedProxies: [`${PROXY}/32`],
    }),
  );
  gw = await startGateway(["--stack", stack, `--upstream=emb-tei=${tei.url}`, `--upstream=rr-tei=${rr.url}`]);
}, 90_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all([tei?.close(), rr?.close()]);
});

/** One request over node:http from a chosen loopback address (fetch cannot pick its source address). */
function request(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; from?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const u = new URL(gw.url);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        localAddress: options.from ?? "127.0.0.2",
        agent: false,
      },
      (res) => {
        answered = true;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, ms: performance.now() - started }),
        );
      },
    );
    // A refusal before the body is read closes the connection while a large body is still being sent: the write
    // then fails (EPIPE, ECONNRESET) after the answer arrived, which is the behaviour under test, not an error.
    let answered = false;
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    req.end(options.body);
  });
}
const json = { "content-type": "application/json" };
const bearer = (k: string) => ({ ...json, authorization: `Bearer ${k}` });
const embedBody = (model = "emb-tei") => JSON.stringify({ model, input: "hello" });
const metric = async (name: string) => {
  const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
};

/** `depth` nested arrays, padded to about `bytes`. */
const nested = (depth: number, bytes: number) =>
  Buffer.from(
    `{"model":"emb-tei","input":${"[".repeat(depth)}${" ".repeat(Math.max(0, bytes - 2 * depth - 40))}${"]".repeat(depth)}}`,
  );

describe("refuse before working", () => {
  it("a 30 MB deeply nested body without a key: 401 from the headers, the loop stays free, /healthz answers at once", async () => {
    await metric("retrieval_gateway_event_loop_delay_max_seconds"); // resets the window
    const attack = nested(1_000_000, 30_000_000);
    const attacks = Array.from({ length: 4 }, () =>
      request("/v1/embeddings", { method: "POST", headers: json, body: attack, from: "127.0.0.4" }),
    );
    const health = await request("/healthz");
    const done = await Promise.all(attacks);
    expect(done.map((d) => d.status)).toEqual([401, 401, 401, 401]);
    expect(health.status).toBe(200);
    expect(health.ms).toBeLessThan(500);
    expect(await metric("retrieval_gateway_event_loop_delay_max_seconds")).toBeLessThan(0.25);
  });

  it("with a key, a deeply nested body is refused while it arrives (400 too_deep), never parsed", async () => {
    const r = await request("/v1/embeddings", {
      method: "POST",
      headers: bearer(KEY_A),
      body: nested(100_000, 2_000_000),
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.code).toBe("too_deep");
  });

  it("a list far longer than any batch limit is refused while it arrives (400 too_many_items)", async () => {
    const body = JSON.stringify({ model: "emb-tei", input: Array(100_000).fill("x") });
    const r = await request("/v1/embeddings", { method: "POST", headers: bearer(KEY_A), body });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.code).toBe("too_many_items");
  });

  it("a 10 MiB model name is never echoed: small 400 with a key, small 401 without, audit line bounded", async () => {
    const model = "m".repeat(10 * 1024 * 1024);
    const body = JSON.stringify({ model, input: "x" });
    const withKey = await request("/v1/embeddings", { method: "POST", headers: bearer(KEY_A), body });
    expect(withKey.status).toBe(400);
    expect(JSON.parse(withKey.text).error.code).toBe("invalid_model_name");
    expect(withKey.text.length).toBeLessThan(1024);
    const without = await request("/v1/embeddings", { method: "POST", headers: json, body, from: "127.0.0.5" });
    expect(without.status).toBe(401);
    expect(without.text.length).toBeLessThan(1024);
    const notFound = await request(`/${"p".repeat(8000)}`, { method: "POST", headers: bearer(KEY_A), body: "{}" });
    expect(notFound.status).toBe(404);
    expect(notFound.text.length).toBeLessThan(1024);
    for (let i = 0; i < 30 && !gw.stdout().includes("invalid_model_name"); i++)
      await new Promise((r) => setTimeout(r, 100));
    for (const line of gw.stdout().split("\n")) expect(line.length).toBeLessThanOrEqual(4096 + 40);
  });

  it("security headers on the API and on the playground (CSP without inline script, no framing, nosniff)", async () => {
    const api = await request("/v1/embeddings", { method: "POST", headers: bearer(KEY_A), body: embedBody() });
    expect(api.status).toBe(200);
    expect(api.headers["x-content-type-options"]).toBe("nosniff");
    expect(api.headers["x-frame-options"]).toBe("DENY");
    expect(api.headers["referrer-policy"]).toBe("no-referrer");
    expect(api.headers["content-security-policy"]).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    const page = await request("/playground");
    expect(page.status).toBe(200);
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(page.text).not.toMatch(/<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>\s*\S/); // no inline script
    expect(page.headers["x-frame-options"]).toBe("DENY");
  });

  it("1,000 slowloris connections do not starve real clients; those over the per-client cap are dropped", async () => {
    const sockets: net.Socket[] = [];
    const u = new URL(gw.url);
    let closed = 0;
    try {
      for (let i = 0; i < 1000; i++) {
        const s = net.connect({ host: u.hostname, port: Number(u.port), localAddress: "127.0.0.6" });
        s.on("error", () => {});
        s.on("close", () => closed++);
        s.write("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n");
        sockets.push(s);
      }
      await new Promise((r) => setTimeout(r, 1000));
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          request("/v1/embeddings", { method: "POST", headers: bearer(KEY_A), body: embedBody() }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(2000);
      // The cap per client address (connections.maxPerClient): the others are closed (polled: a loaded machine).
      for (let i = 0; i < 100 && closed < 1000 - 256; i++) await new Promise((r) => setTimeout(r, 50));
      expect(closed).toBeGreaterThanOrEqual(1000 - 256);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it("1,000 slowloris connections from 8 addresses (under every cap) trickling headers: real clients served within 2 s, the event loop stays free", async () => {
    const u = new URL(gw.url);
    const sockets: net.Socket[] = [];
    await metric("retrieval_gateway_event_loop_delay_max_seconds"); // resets the window
    const drip = setInterval(() => {
      for (const s of sockets) if (s.writable) s.write("a");
    }, 500);
    try {
      for (let i = 0; i < 1000; i++) {
        const s = net.connect({ host: u.hostname, port: Number(u.port), localAddress: `127.0.0.${20 + (i % 8)}` });
        s.on("error", () => {});
        s.write("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        sockets.push(s);
      }
      await new Promise((r) => setTimeout(r, 2000));
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          request("/v1/embeddings", { method: "POST", headers: bearer(KEY_A), body: embedBody() }),
        ),
      );
      const open = sockets.filter((s) => !s.destroyed && s.readyState === "open").length;
      const worstMs = Math.max(...results.map((r) => r.ms));
      const loopDelay = await metric("retrieval_gateway_event_loop_delay_max_seconds");
      // Figures for docs/gateway.md ("Security and failure behaviour"); the machine is shared: read as an order.
      console.info(
        `slowloris x1000 (8 addresses): ${open} held open, 20 real requests worst ${worstMs.toFixed(0)} ms, worst event-loop delay ${(loopDelay * 1000).toFixed(1)} ms`,
      );
      expect(open).toBe(1000); // none over a cap: all held, and still real clients are served
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(worstMs).toBeLessThan(2000);
      expect(loopDelay).toBeLessThan(0.25);
    } finally {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    }
  });

  it("failed authentications are throttled per client address (429 after 30); valid keys are never slowed", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++)
      statuses.push(
        (
          await request("/v1/embeddings", {
            method: "POST",
            headers: bearer(`wrong-key-${i}-0123456789`),
            body: "{}",
            from: "127.0.0.7",
          })
        ).status,
      );
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual([429, 429]);
    // The same address with a valid key: served at once.
    const ok = await request("/v1/embeddings", {
      method: "POST",
      headers: bearer(KEY_A),
      body: embedBody(),
      from: "127.0.0.7",
    });
    expect(ok.status).toBe(200);
    // X-Forwarded-For from an untrusted peer is ignored: a new header value does not reset the budget.
    const spoofed = await request("/v1/embeddings", {
      method: "POST",
      headers: { ...bearer("wrong-key-x-0123456789"), "x-forwarded-for": "198.51.100.9" },
      body: "{}",
      from: "127.0.0.7",
    });
    expect(spoofed.status).toBe(429);
    // From the trusted proxy, the client named by X-Forwarded-For is counted: another client is not throttled.
    for (let i = 0; i < 31; i++)
      await request("/v1/embeddings", {
        method: "POST",
        headers: { ...bearer("wrong-key-y-0123456789"), "x-forwarded-for": "203.0.113.7" },
        body: "{}",
        from: PROXY,
      });
    const other = await request("/v1/embeddings", {
      method: "POST",
      headers: { ...bearer("wrong-key-z-0123456789"), "x-forwarded-for": "203.0.113.8" },
      body: "{}",
      from: PROXY,
    });
    expect(other.status).toBe(401);
  });
});

describe("identity and scope", () => {
  it("a key limited to some models: others answer 404 as if absent, and /v1/models lists only its own", async () => {
    const denied = await request("/v1/rerank", {
      method: "POST",
      headers: bearer(KEY_B),
      body: JSON.stringify({ model: "rr-tei", query: "q", documents: ["a"] }),
    });
    expect(denied.status).toBe(404);
    expect(JSON.parse(denied.text).error.message).toBe("The model 'rr-tei' does not exist. Models: emb-tei, search.");
    expect(rr.log.filter((l) => l.method === "POST")).toEqual([]);
    const alias = await request("/v1/rerank", {
      method: "POST",
      headers: bearer(KEY_B),
      body: JSON.stringify({ model: "search", query: "q", documents: ["a"] }),
    });
    expect(alias.status).toBe(200);
    const list = JSON.parse((await request("/v1/models", { headers: bearer(KEY_B) })).text);
    expect(list.data.map((m: { id: string }) => m.id)).toEqual(["emb-tei", "search"]);
    const all = JSON.parse((await request("/v1/models", { headers: bearer(KEY_A) })).text);
    expect(all.data.length).toBeGreaterThan(2);
  });

  it("/metrics is on its own port: the callers' port answers 404", async () => {
    expect((await request("/metrics")).status).toBe(404);
    expect((await fetch(`${gw.metricsUrl}/metrics`)).status).toBe(200);
  });
});
