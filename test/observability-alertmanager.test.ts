import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { ReceiverSchema } from "../components/config";
import { buildAlertmanagerConfig, bridgeTargets, NULL_RECEIVER } from "../components/observability/alertmanager-config";
import { chatBridgeUrl } from "../components/observability/chat-bridge";
import { run } from "./fixtures/promtool/tool";
import { apt, findTool, missingToolTest } from "./fixtures/tools";
import { freePort } from "./free-port";

const amtool = findTool("amtool", apt("prometheus-alertmanager"));
const alertmanager = findTool("prometheus-alertmanager", apt("prometheus-alertmanager"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alertmanager-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The prod stack's receivers plus a Slack one. */
const receivers = [
  { name: "oncall-wecom", type: "wecom", urlSecretKey: "wecom", severities: ["critical"] },
  { name: "team-dingtalk", type: "dingtalk", urlSecretKey: "dingtalk", severities: ["warning"] },
  { name: "audit-webhook", type: "webhook", urlSecretKey: "audit", severities: ["critical", "warning", "info"] },
  {
    name: "ml-slack",
    type: "slack",
    urlSecretKey: "slack",
    channel: "#ml-oncall",
    severities: ["critical", "warning"],
  },
].map((r) => ReceiverSchema.parse(r));
const urls = {
  wecom: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-token-1",
  dingtalk: "https://oapi.dingtalk.com/robot/send?access_token=ding-token-2#secret=SECding",
  audit: "https://audit.example.com/hook/audit-token-3",
  slack: "https://hooks.slack.com/services/T000/B000/slack-token-4",
};
const bridge = chatBridgeUrl("monitoring");
const config = buildAlertmanagerConfig(receivers, urls, bridge);
const configFile = path.join(dir, "alertmanager.yaml");
fs.writeFileSync(configFile, YAML.stringify(config, { lineWidth: 0 }));

describe("Alertmanager config", () => {
  it("has every receiver, one route per receiver matching its severities, and the null default", () => {
    expect(config.receivers.map((r) => r.name)).toEqual([
      NULL_RECEIVER,
      "oncall-wecom",
      "team-dingtalk",
      "audit-webhook",
      "ml-slack",
    ]);
    expect(config.route.receiver).toBe(NULL_RECEIVER);
    expect(config.route.routes).toEqual([
      expect.objectContaining({
        receiver: "oncall-wecom",
        matchers: ['severity=~"critical"'],
        continue: true,
        repeat_interval: "1h",
      }),
      expect.objectContaining({
        receiver: "team-dingtalk",
        matchers: ['severity=~"warning"'],
        continue: true,
        repeat_interval: "4h",
      }),
      expect.objectContaining({
        receiver: "audit-webhook",
        matchers: ['severity=~"critical|info|warning"'],
        continue: true,
      }),
      expect.objectContaining({ receiver: "ml-slack", matchers: ['severity=~"critical|warning"'], continue: true }),
    ]);
  });

  it("sends robots through the bridge (their URL stays out of Alertmanager) and webhook/Slack directly", () => {
    const byName = Object.fromEntries(config.receivers.map((r) => [r.name, r]));
    expect(byName["oncall-wecom"]!.webhook_configs).toEqual([
      { url: `${bridge}/wecom/oncall-wecom`, send_resolved: true },
    ]);
    expect(byName["team-dingtalk"]!.webhook_configs).toEqual([
      { url: `${bridge}/dingtalk/team-dingtalk`, send_resolved: true },
    ]);
    expect(byName["audit-webhook"]!.webhook_configs![0]!.url).toBe(urls.audit);
    expect(byName["ml-slack"]!.slack_configs![0]).toMatchObject({ api_url: urls.slack, channel: "#ml-oncall" });
    const text = YAML.stringify(config);
    expect(text).not.toContain("wecom-token-1");
    expect(text).not.toContain("ding-token-2");
    expect(bridgeTargets(receivers, urls)).toEqual({
      "oncall-wecom": { type: "wecom", url: urls.wecom },
      "team-dingtalk": { type: "dingtalk", url: urls.dingtalk },
    });
  });

  it("inhibits a model's warnings while its critical alert fires, only for the same model", () => {
    expect(config.inhibit_rules).toEqual([
      {
        source_matchers: ['severity="critical"', 'model=~".+"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: ["namespace", "model"],
      },
    ]);
  });

  it("refuses a receiver URL its egress cannot reach (only https on TCP 443 is allowed), naming the key and the rule", () => {
    for (const [url, why] of [
      ["http://audit.example.com/hook", /http:.*https on port 443/],
      ["https://audit.example.com:8443/hook", /port 8443.*https on port 443/],
    ] as const)
      expect(() => buildAlertmanagerConfig(receivers, { ...urls, audit: url }, bridge)).toThrow(
        new RegExp(`alertReceiverUrls\\.audit.*${why.source}`),
      );
    expect(() =>
      buildAlertmanagerConfig(receivers, { ...urls, audit: "https://audit.example.com:443/hook" }, bridge),
    ).not.toThrow();
  });

  it("names the missing secret key and the fix", () => {
    expect(() => buildAlertmanagerConfig(receivers, { ...urls, slack: "" }, bridge)).toThrow(
      /alertReceiverUrls\.slack.*pulumi config set --secret --path 'alertReceiverUrls\.slack'/,
    );
  });
});

describe("amtool", () => {
  if (!amtool.path) {
    missingToolTest(amtool);
    return;
  }
  it("check-config accepts the rendered config", () => {
    const r = run(amtool, ["check-config", configFile]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status, r.output).toBe(0);
  });
  it("check-config rejects a broken config (the check can fail)", () => {
    const broken = path.join(dir, "broken.yaml");
    fs.writeFileSync(broken, YAML.stringify({ ...config, route: { ...config.route, receiver: "nobody" } }));
    expect(run(amtool, ["check-config", broken]).status).not.toBe(0);
  });
  it.each([
    [["severity=critical", "model=bge"], "oncall-wecom,audit-webhook,ml-slack"],
    [["severity=warning", "model=bge"], "team-dingtalk,audit-webhook,ml-slack"],
    [["severity=info"], "audit-webhook"],
    [["alertname=Watchdog", "severity=none"], NULL_RECEIVER],
  ])("routes %j to %s", (labels, expected) => {
    const r = run(amtool, ["config", "routes", "test", `--config.file=${configFile}`, ...labels]);
    expect(r.status, r.output).toBe(0);
    // amtool prints the matching receivers on stdout (and a harmless flag warning on stderr).
    const receiversLine = r.output.split("\n").find((l) => l.trim() && !l.startsWith("Warning:"));
    expect(receiversLine?.trim()).toBe(expected);
  });
});

describe("inhibition in a real Alertmanager (loopback only)", () => {
  if (!alertmanager.path) {
    missingToolTest(alertmanager);
    return;
  }
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill("SIGKILL"));

  it("suppresses the warning of the model whose critical alert fires, not another model's", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(
      alertmanager.path!,
      [
        `--config.file=${configFile}`,
        `--storage.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--cluster.listen-address=",
      ],
      { stdio: "ignore" },
    );
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`${base}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const alert = (alertname: string, severity: string, model: string) => ({
      labels: { alertname, severity, model, namespace: "retrieval" },
      annotations: { summary: `${alertname} ${model}` },
    });
    const post = await fetch(`${base}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([
        alert("ModelServiceDown", "critical", "bge"),
        alert("ModelMetricsMissing", "warning", "bge"),
        alert("ModelMetricsMissing", "warning", "gte"),
      ]),
    });
    expect(post.status).toBe(200);
    type Listed = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
    let listed: Listed[] = [];
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      listed = (await (await fetch(`${base}/api/v2/alerts`)).json()) as Listed[];
      if (listed.length === 3 && listed.some((a) => a.status.state === "suppressed")) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const state = (name: string, model: string) =>
      listed.find((a) => a.labels.alertname === name && a.labels.model === model)?.status;
    expect(state("ModelMetricsMissing", "bge")?.state).toBe("suppressed");
    expect(state("ModelMetricsMissing", "bge")?.inhibitedBy.length).toBe(1);
    expect(state("ModelMetricsMissing", "gte")?.state).toBe("active");
    expect(state("ModelServiceDown", "bge")?.state).toBe("active");
  }, 60_000);
});
