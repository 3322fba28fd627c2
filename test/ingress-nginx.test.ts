// The route table rendered as plain nginx.conf, checked by the real `nginx -t` and then served on 127.0.0.1
// against a tiny engine stand-in: 401 without or with a wrong key, 200 with a key (rewritten to the engine's path,
// key stripped), 429 over the limit, 413 over the body size, 404 for everything else.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderNginxConf } from "../components/ingress/nginx-conf";
import { routeTable, type ModelRoute } from "../components/ingress/routes";
import { EVERY_ENGINE, KEYS, ingressConfig } from "./ingress-fixtures";
import { STACKS, parseStack } from "./config-helpers";
import { freePort } from "./free-port";

function findNginx(): string | undefined {
  for (const p of ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]) if (fs.existsSync(p)) return p;
  const which = spawnSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" });
  return which.status === 0 ? which.stdout.trim() || undefined : undefined;
}

const NGINX = findNginx();
if (!NGINX) {
  if (process.env.CI === "true")
    throw new Error("nginx is required in CI (Debian package nginx-light, see .ci/run APT_PACKAGES)");
  console.warn(
    "\n*** SKIPPING test/ingress-nginx.test.ts: nginx not found. Install it: apt-get install -y nginx-light ***\n",
  );
}

interface Seen {
  readonly path: string;
  readonly authorization?: string;
  readonly bytes: number;
}

// Every model allows 100 r/s except the one the 429 test hammers, which allows 1 r/s with no burst.
const SLOW = "bge-reranker-m3";
// A key no other test uses, to show that limits are counted per key.
const FRESH_KEY = "gamma-key-0123456789abcdef";
const ingress = ingressConfig({
  rateLimit: { requestsPerSecond: 100, burst: 100 },
  modelRateLimits: { [SLOW]: { requestsPerSecond: 1, burst: 0 } },
  maxBodySize: "64k",
  timeoutSeconds: 5,
});
const routes: ModelRoute[] = routeTable(EVERY_ENGINE, ingress);

describe.skipIf(!NGINX)("the route table as nginx.conf, with the real nginx", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-nginx-"));
  const seen: Seen[] = [];
  let engine: http.Server;
  let nginx: ChildProcess | undefined;
  let base = "";
  let conf = "";

  beforeAll(async () => {
    fs.chmodSync(dir, 0o777);
    engine = http.createServer((req, res) => {
      let bytes = 0;
      req.on("data", (c: Buffer) => (bytes += c.length));
      req.on("end", () => {
        seen.push({ path: req.url ?? "", authorization: req.headers.authorization, bytes });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, path: req.url }));
      });
    });
    await new Promise<void>((r) => engine.listen(0, "127.0.0.1", () => r()));
    const enginePort = (engine.address() as net.AddressInfo).port;
    const listen = await freePort();
    base = `http://127.0.0.1:${listen}`;
    conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(
      conf,
      renderNginxConf(routes, {
        listen,
        serverName: "retrieval.test",
        upstreams: Object.fromEntries(routes.map((r) => [r.model, `127.0.0.1:${enginePort}`])),
        apiKeys: [...KEYS, FRESH_KEY],
        prefix: dir,
        maxBodySize: ingress.maxBodySize,
        timeoutSeconds: ingress.timeoutSeconds,
      }),
    );
    const t = spawnSync(NGINX!, ["-t", "-q", "-p", dir, "-e", path.join(dir, "error.log"), "-c", conf], {
      encoding: "utf8",
    });
    if (t.status !== 0) throw new Error(`nginx -t failed:\n${t.stderr}\n${fs.readFileSync(conf, "utf8")}`);
    nginx = spawn(
      NGINX!,
      ["-p", dir, "-e", path.join(dir, "error.log"), "-c", conf, "-g", "daemon off; master_process off;"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    // Bounded wait for the listener.
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((r) => {
        const s = net.connect(listen, "127.0.0.1", () => (s.end(), r(true)));
        s.on("error", () => r(false));
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `nginx did not listen on ${listen}: ${fs.existsSync(path.join(dir, "error.log")) ? fs.readFileSync(path.join(dir, "error.log"), "utf8") : ""}`,
    );
  }, 20000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once("exit", r));
      nginx.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (nginx.exitCode === null) nginx.kill("SIGKILL");
    }
    await new Promise((r) => engine?.close(() => r(undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = (p: string, init: { key?: string | null; body?: string } = {}) =>
    fetch(`${base}${p}`, {
      method: "POST",
      headers: {
        host: "retrieval.test",
        "content-type": "application/json",
        ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
      },
      body: init.body ?? '{"input":["hello"]}',
    });

  it("passes `nginx -t`", () => {
    const t = spawnSync(NGINX!, ["-t", "-p", dir, "-e", path.join(dir, "error.log"), "-c", conf], { encoding: "utf8" });
    expect(t.stderr).toMatch(/syntax is ok/);
    expect(t.stderr).toMatch(/test is successful/);
  });

  it.each(STACKS)("the %s stack's route table, limits, body size and timeouts pass `nginx -t`", async (stack) => {
    const c = parseStack(stack, (raw, secret) => {
      raw.apiKeys = JSON.stringify(KEYS);
      secret.add("apiKeys");
    });
    const stackRoutes = routeTable(c.models, c.ingress);
    const file = path.join(dir, `${stack}.conf`);
    fs.writeFileSync(
      file,
      renderNginxConf(stackRoutes, {
        listen: await freePort(),
        serverName: c.ingress.host ?? "localhost",
        upstreams: Object.fromEntries(stackRoutes.map((r) => [r.model, `127.0.0.1:${r.service.port}`])),
        apiKeys: KEYS,
        prefix: dir,
        maxBodySize: c.ingress.maxBodySize,
        timeoutSeconds: c.ingress.timeoutSeconds,
      }),
    );
    const t = spawnSync(NGINX!, ["-t", "-p", dir, "-e", path.join(dir, "error.log"), "-c", file], { encoding: "utf8" });
    expect(t.stderr, fs.readFileSync(file, "utf8")).toMatch(/test is successful/);
  });

  it("answers 401 with a JSON error and never reaches the engine without a valid key", async () => {
    const before = seen.length;
    for (const key of [null, "not-a-key-at-all-0000", `${KEYS[0]}x`]) {
      const r = await call(routes[0]!.publicPath, { key });
      expect(r.status, String(key)).toBe(401);
      expect(r.headers.get("www-authenticate")).toBe("Bearer");
      expect(((await r.json()) as any).error.type).toBe("authentication_error");
    }
    const lower = await fetch(`${base}${routes[0]!.publicPath}`, {
      method: "POST",
      headers: { authorization: `bearer ${KEYS[0]}` },
      body: "{}",
    });
    expect(lower.status).toBe(401);
    expect(seen.length).toBe(before);
  });

  it("with a key, rewrites every model's public path to its engine's own path and strips the key", async () => {
    for (const r of routes) {
      const before = seen.length;
      const res = await call(r.publicPath, { key: KEYS[1] });
      expect(res.status, r.publicPath).toBe(200);
      expect(seen.length).toBe(before + 1);
      expect(seen.at(-1)!.path).toBe(r.enginePath);
      expect(seen.at(-1)!.authorization).toBeUndefined();
    }
  });

  it("answers 429 with a JSON error and Retry-After once a key exceeds its model's limit", async () => {
    const route = routes.find((r) => r.model === SLOW)!;
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await call(route.publicPath, { key: KEYS[0] });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.arrayBuffer();
    }
    expect(statuses[0]).toBe(200);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    expect(limited!.headers.get("retry-after")).toBe("1");
    const body = (await limited!.json()) as any;
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toContain(SLOW);
    // The limit is per key: the other key still gets through, and other models are unaffected.
    expect((await call(route.publicPath, { key: FRESH_KEY })).status).toBe(200);
    expect((await call(routes[0]!.publicPath, { key: KEYS[0] })).status).toBe(200);
  });

  it("answers 413 with a JSON error above the body size limit", async () => {
    const before = seen.length;
    const res = await call(routes[0]!.publicPath, {
      key: KEYS[0],
      body: JSON.stringify({ input: ["x".repeat(80 * 1024)] }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.message).toContain("64k");
    expect(seen.length).toBe(before);
  });

  it("exposes no engine health or metrics path and nothing outside /models/<name>/v1/...", async () => {
    const before = seen.length;
    for (const p of [
      "/health",
      "/metrics",
      `/models/${routes[0]!.model}/health`,
      `/models/${routes[0]!.model}/metrics`,
      `${routes[0]!.publicPath}/extra`,
      "/v1/embeddings",
    ]) {
      const res = await call(p, { key: KEYS[0] });
      expect(res.status, p).toBe(404);
      expect(((await res.json()) as any).error.type).toBe("not_found_error");
    }
    expect(seen.length).toBe(before);
  });
});
