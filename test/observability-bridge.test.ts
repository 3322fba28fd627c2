import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_BRIDGE_SCRIPT } from "../components/observability/chat-bridge-program";

/** A robot that records what it receives and answers like WeCom/DingTalk (errcode 0, or the one we set). */
interface Received {
  path: string;
  query: URLSearchParams;
  body: any;
}
const received: Received[] = [];
let robotErrcode = 0;
const robot = http.createServer((req, res) => {
  let data = "";
  req.on("data", (c) => (data += c));
  req.on("end", () => {
    const url = new URL(req.url ?? "/", "http://robot");
    received.push({ path: url.pathname, query: url.searchParams, body: JSON.parse(data) });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ errcode: robotErrcode, errmsg: robotErrcode ? "invalid webhook url" : "ok" }));
  });
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chat-bridge-"));
const targetsFile = path.join(dir, "targets.json");
let bridge: ChildProcess;
let base = "";
let robotBase = "";

function writeTargets(extra: Record<string, { type: string; url: string }> = {}) {
  fs.writeFileSync(
    targetsFile,
    JSON.stringify({
      "oncall-wecom": { type: "wecom", url: `${robotBase}/cgi-bin/webhook/send?key=wecom-key` },
      "team-dingtalk": { type: "dingtalk", url: `${robotBase}/robot/send?access_token=ding-token#secret=SECtest123` },
      ...extra,
    }),
  );
}

beforeAll(async () => {
  await new Promise<void>((r) => robot.listen(0, "127.0.0.1", r));
  robotBase = `http://127.0.0.1:${(robot.address() as AddressInfo).port}`;
  writeTargets();
  const script = path.join(dir, "chat-bridge.js");
  fs.writeFileSync(script, CHAT_BRIDGE_SCRIPT);
  bridge = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", TARGETS_FILE: targetsFile, ROBOT_TIMEOUT_MS: "3000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("chat bridge did not start in 10 s")), 10_000);
    bridge.stdout!.on("data", (d: Buffer) => {
      const m = /listening on (\d+)/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  bridge?.kill("SIGTERM");
  await new Promise((r) => robot.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Alertmanager's webhook payload (version 4), as prometheus.io documents it. */
function payload(alerts: { name: string; severity: string; model: string; status?: string; description?: string }[]) {
  return {
    version: "4",
    status: alerts.some((a) => (a.status ?? "firing") === "firing") ? "firing" : "resolved",
    receiver: "oncall-wecom",
    groupLabels: { alertname: alerts[0]!.name },
    commonLabels: { alertname: alerts[0]!.name, model: alerts[0]!.model },
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    alerts: alerts.map((a) => ({
      status: a.status ?? "firing",
      labels: { alertname: a.name, severity: a.severity, model: a.model },
      annotations: {
        summary: `Model ${a.model} has no ready replica`,
        description: a.description ?? `Model ${a.model} (vllm) has had no ready replica for 5m.`,
        runbook_url: "https://runbooks.example/runbooks.md#modelservicedown",
      },
      startsAt: "2026-11-01T00:00:00Z",
    })),
  };
}
const post = (p: string, body: unknown) =>
  fetch(`${base}${p}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("chat bridge (the shipped script, run by node on loopback)", () => {
  it("answers its health check", async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("turns Alertmanager's JSON into a WeCom markdown message naming the model, with the runbook", async () => {
    received.length = 0;
    const r = await post(
      "/wecom/oncall-wecom",
      payload([{ name: "ModelServiceDown", severity: "critical", model: "bge-large-zh" }]),
    );
    expect(r.status).toBe(200);
    expect(received).toHaveLength(1);
    const got = received[0]!;
    expect(got.path).toBe("/cgi-bin/webhook/send");
    expect(got.query.get("key")).toBe("wecom-key");
    expect(got.body.msgtype).toBe("markdown");
    const content: string = got.body.markdown.content;
    expect(content).toContain("[FIRING:1] ModelServiceDown bge-large-zh");
    expect(content).toContain("Model bge-large-zh has no ready replica");
    expect(content).toContain("(critical)");
    expect(content).toContain("[Runbook](https://runbooks.example/runbooks.md#modelservicedown)");
    expect(content).toMatch(/<font color="warning">/);
  });

  it("signs DingTalk requests with the secret from the URL fragment, and never sends the fragment", async () => {
    received.length = 0;
    const before = Date.now();
    const r = await post(
      "/dingtalk/team-dingtalk",
      payload([
        { name: "ModelServiceHighLatencyP99", severity: "warning", model: "qwen3-reranker", status: "resolved" },
      ]),
    );
    expect(r.status).toBe(200);
    const got = received[0]!;
    expect(got.query.get("access_token")).toBe("ding-token");
    expect(got.query.get("secret")).toBeNull();
    const ts = Number(got.query.get("timestamp"));
    expect(ts).toBeGreaterThanOrEqual(before);
    const expected = crypto.createHmac("sha256", "SECtest123").update(`${ts}\nSECtest123`).digest("base64");
    expect(got.query.get("sign")).toBe(expected);
    expect(got.body.msgtype).toBe("markdown");
    expect(got.body.markdown.title).toBe("[RESOLVED] ModelServiceHighLatencyP99 qwen3-reranker");
    expect(got.body.markdown.text).toContain("**RESOLVED** ModelServiceHighLatencyP99 (warning)");
  });

  it("keeps a message with many long alerts under WeCom's 4096-byte limit", async () => {
    received.length = 0;
    const long = "模型延迟过高 ".repeat(120);
    const alerts = Array.from({ length: 30 }, (_, i) => ({
      name: "ModelServicePodRestarting",
      severity: "warning",
      model: `m${i}`,
      description: long,
    }));
    expect((await post("/wecom/oncall-wecom", payload(alerts))).status).toBe(200);
    const content: string = received[0]!.body.markdown.content;
    expect(Buffer.byteLength(content, "utf8")).toBeLessThanOrEqual(4096);
    expect(content.endsWith("...")).toBe(true);
  });

  it("answers 502 when the robot refuses (so Alertmanager retries and counts the failure)", async () => {
    robotErrcode = 93000;
    try {
      const r = await post(
        "/wecom/oncall-wecom",
        payload([{ name: "ModelServiceDown", severity: "critical", model: "x" }]),
      );
      expect(r.status).toBe(502);
      expect(await r.text()).toContain("errcode 93000");
    } finally {
      robotErrcode = 0;
    }
  });

  it("answers 404 for an unknown receiver or a type mismatch, 400 for a body that is not JSON", async () => {
    expect((await post("/wecom/nobody", payload([{ name: "A", severity: "warning", model: "x" }]))).status).toBe(404);
    expect(
      (await post("/dingtalk/oncall-wecom", payload([{ name: "A", severity: "warning", model: "x" }]))).status,
    ).toBe(404);
    expect((await fetch(`${base}/wecom/oncall-wecom`, { method: "POST", body: "not json" })).status).toBe(400);
  });

  it("picks up a rotated robot URL without a restart", async () => {
    received.length = 0;
    writeTargets({ "oncall-wecom": { type: "wecom", url: `${robotBase}/cgi-bin/webhook/send?key=rotated` } });
    expect((await post("/wecom/oncall-wecom", payload([{ name: "A", severity: "critical", model: "x" }]))).status).toBe(
      200,
    );
    expect(received[0]!.query.get("key")).toBe("rotated");
    writeTargets();
  });
});
