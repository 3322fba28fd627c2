// The route table rendered as plain nginx.conf, checked by the real `nginx -t` and then served on 127.0.0.1
// against a tiny engine stand-in: 401 without or with a wrong key, 200 with a key (rewritten to the engine's path,
// key stripped), 429 over the limit, 413 over the body size, 404 for everything else.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { renderNginxConf } from "./fixtures/nginx-conf";
import { routeTable, type ModelRoute } from "../components/ingress/routes";
import { EVERY_ENGINE, KEYS, ingressConfig } from "./fixtures/ingress";
import { STACKS, parseStack } from "./config-helpers";
import { freePort } from "./free-port";
import { apt, describeWithTool, findTool } from "./fixtures/tools";
import { controllerReplicas } from "../components/ingress/nginx-ingress";

const NGINX_TOOL = findTool("nginx", apt("nginx-light"), [
  "/usr/sbin/nginx",
  "/usr/local/sbin/nginx",
  "/usr/bin/nginx",
]);
const NGINX = NGINX_TOOL.path;

/** `nginx -t`, then nginx in the foreground on `listen`; resolves once it accepts connections. */
async function startNginx(dir: string, conf: string, listen: number): Promise<ChildProcess> {
  const t = spawnSync(NGINX!, ["-t", "-q", "-p", dir, "-e", path.join(dir, "error.log"), "-c", conf], {
    encoding: "utf8",
  });
  if (t.status !== 0) throw new Error(`nginx -t failed:\n${t.stderr}\n${fs.readFileSync(conf, "utf8")}`);
  const nginx = spawn(
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
    if (up) return nginx;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stopNginx(nginx);
  throw new Error(
    `nginx did not listen on ${listen}: ${fs.existsSync(path.join(dir, "error.log")) ? fs.readFileSync(path.join(dir, "error.log"), "utf8") : ""}`,
  );
}

async function stopNginx(nginx: ChildProcess | undefined): Promise<void> {
  if (!nginx || nginx.exitCode !== null || nginx.signalCode !== null) return;
  const exited = new Promise((r) => nginx.once("exit", r));
  nginx.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  if (nginx.exitCode === null && nginx.signalCode === null) nginx.kill("SIGKILL");
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

describeWithTool(NGINX_TOOL, "the route table as nginx.conf, with the real nginx", () => {
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
        replicas: 1,
      }),
    );
    nginx = await startNginx(dir, conf, listen);
  }, 20000);

  afterAll(async () => {
    await stopNginx(nginx);
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
        replicas: controllerReplicas({ environment: c.environment, ingress: c.ingress }),
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

/** A scratch nginx from `routes` with the given options; stopped (and its directory removed) by `stop`. */
async function serve(
  routesToServe: readonly ModelRoute[],
  o: Omit<Parameters<typeof renderNginxConf>[1], "listen" | "prefix" | "serverName">,
): Promise<{ base: string; stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-nginx-"));
  fs.chmodSync(dir, 0o777);
  const listen = await freePort();
  const conf = path.join(dir, "nginx.conf");
  fs.writeFileSync(conf, renderNginxConf(routesToServe, { ...o, listen, prefix: dir, serverName: "retrieval.test" }));
  let nginx: ChildProcess | undefined;
  try {
    nginx = await startNginx(dir, conf, listen);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    base: `http://127.0.0.1:${listen}`,
    stop: async () => {
      await stopNginx(nginx);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An engine stand-in on 127.0.0.1 that counts the requests it received and answers with `answer`. */
async function engineStub(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"ok":true}');
  },
): Promise<{ address: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      n++;
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    count: () => n,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

const post = (base: string, p: string, body = '{"input":["hello"]}', key = KEYS[0]) =>
  fetch(`${base}${p}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body,
  });

describeWithTool(NGINX_TOOL, "rate limits across controller replicas (each NGINX counts alone)", () => {
  const limited = routeTable(
    EVERY_ENGINE.slice(0, 1),
    ingressConfig({ rateLimit: { requestsPerSecond: 1, burst: 10 } }),
  );

  /** Requests of one key accepted by `replicas` NGINX servers rendered from the same Policy, hit in turn. */
  async function accepted(replicas: number): Promise<number> {
    const engine = await engineStub();
    const servers = await Promise.all(
      Array.from({ length: replicas }, () =>
        serve(limited, {
          upstreams: { [limited[0]!.model]: engine.address },
          apiKeys: KEYS,
          maxBodySize: "1m",
          timeoutSeconds: 5,
          replicas,
        }),
      ),
    );
    try {
      let ok = 0;
      for (let i = 0; i < 40; i++) {
        const res = await post(servers[i % replicas]!.base, limited[0]!.publicPath);
        await res.arrayBuffer();
        if (res.status === 200) ok++;
        else expect(res.status).toBe(429);
      }
      return ok;
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await engine.close();
    }
  }

  it("a key gets the configured burst once, not once per replica", async () => {
    // One NGINX: the first request plus the burst of 10.
    expect(await accepted(1)).toBe(11);
    // Two replicas behind the NLB: each counts half the rate and half the burst, 2 x (1 + 5) = 12, where
    // unscaled Policies would have let 2 x 11 = 22 through.
    const two = await accepted(2);
    expect(two).toBeGreaterThanOrEqual(11);
    expect(two).toBeLessThanOrEqual(12);
  }, 30_000);
});

describeWithTool(NGINX_TOOL, "retries on another replica (embed and rerank are POSTs, and idempotent)", () => {
  const one = routeTable(
    EVERY_ENGINE.slice(0, 1),
    ingressConfig({ rateLimit: { requestsPerSecond: 100, burst: 100 } }),
  );
  const publicPath = one[0]!.publicPath;

  it("a replica that drops the connection after receiving the POST: replayed once on the other, the client gets 200", async () => {
    let dropped = 0;
    const dropper = net.createServer((socket) => {
      socket.once("data", () => {
        dropped++;
        socket.destroy();
      });
    });
    await new Promise<void>((r) => dropper.listen(0, "127.0.0.1", () => r()));
    const good = await engineStub();
    const s = await serve(one, {
      upstreams: { [one[0]!.model]: [`127.0.0.1:${(dropper.address() as net.AddressInfo).port}`, good.address] },
      apiKeys: KEYS,
      maxBodySize: "1m",
      timeoutSeconds: 5,
      replicas: 1,
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await post(s.base, publicPath);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      expect(dropped).toBeGreaterThanOrEqual(1); // the POST was sent to the failing replica...
      expect(statuses).toEqual([200, 200, 200, 200]); // ...and still answered, by the other one
      expect(good.count()).toBe(4);
    } finally {
      await s.stop();
      await good.close();
      await new Promise((r) => dropper.close(() => r(undefined)));
    }
  }, 20_000);

  it("a request that used up the read timeout is answered 504, never sent to a second GPU", async () => {
    const hanging = await engineStub(() => {}); // reads the request, never answers
    const good = await engineStub();
    const s = await serve(one, {
      upstreams: { [one[0]!.model]: [hanging.address, good.address] },
      apiKeys: KEYS,
      maxBodySize: "1m",
      timeoutSeconds: 1,
      replicas: 1,
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await post(s.base, publicPath);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      expect(statuses.sort()).toEqual([200, 504]);
      expect(hanging.count()).toBe(1);
      expect(good.count()).toBe(1); // the 504 was not replayed there
    } finally {
      await s.stop();
      await hanging.close();
      await good.close();
    }
  }, 20_000);
});

describeWithTool(NGINX_TOOL, "body limits per engine", () => {
  const tei = EVERY_ENGINE.find((m) => m.engine === "tei" && m.task === "embed")!;
  const sglang = EVERY_ENGINE.find((m) => m.engine === "sglang")!;
  const two = routeTable([tei, sglang], ingressConfig({ maxBodySize: "32m" }));

  it("TEI's own 2 MB payload limit applies at the edge, with a 413 that names it; other engines keep 32m", async () => {
    const engine = await engineStub();
    const s = await serve(two, {
      upstreams: Object.fromEntries(two.map((r) => [r.model, engine.address])),
      apiKeys: KEYS,
      maxBodySize: "32m",
      timeoutSeconds: 5,
      replicas: 1,
    });
    const body = (bytes: number) => JSON.stringify({ input: ["x".repeat(bytes)] });
    const [teiRoute, sglangRoute] = [two.find((r) => r.model === tei.name)!, two.find((r) => r.model === sglang.name)!];
    try {
      const over = await post(s.base, teiRoute.publicPath, body(2_100_000));
      expect(over.status).toBe(413);
      expect(((await over.json()) as any).error.message).toContain("2000000 bytes");
      expect(engine.count()).toBe(0);
      const under = await post(s.base, teiRoute.publicPath, body(1_900_000));
      await under.arrayBuffer();
      expect(under.status).toBe(200);
      const big = await post(s.base, sglangRoute.publicPath, body(2_100_000));
      await big.arrayBuffer();
      expect(big.status).toBe(200);
      expect(engine.count()).toBe(2);
    } finally {
      await s.stop();
      await engine.close();
    }
  }, 20_000);
});
