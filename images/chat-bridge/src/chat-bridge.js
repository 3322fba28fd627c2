/**
 * The chat bridge: a dependency-free Node.js server that turns Alertmanager's webhook JSON (version 4) into the
 * message formats of WeCom (企业微信) and DingTalk (钉钉) group robots, which do not accept Alertmanager's JSON.
 * Alertmanager posts to /<wecom|dingtalk>/<receiver>; the robot URL of each receiver is read from a mounted
 * Secret (TARGETS_FILE, re-read on every request so a rotated URL applies without a restart).
 *
 * Robot APIs (read 2026-11):
 * - WeCom: POST {"msgtype":"markdown","markdown":{"content":...}}, content at most 4096 bytes; answers
 *   {"errcode":0,"errmsg":"ok"} (developer.work.weixin.qq.com/document/path/91770).
 * - DingTalk: POST {"msgtype":"markdown","markdown":{"title":...,"text":...}}; answers {"errcode":0,...}.
 *   With "加签" security, the URL gains &timestamp=<ms>&sign=<base64 HMAC-SHA256(secret, ts + "\n" + secret)>
 *   (open.dingtalk.com/document/robots/customize-robot-security-settings). Put the SEC... secret in the URL's
 *   fragment, `...access_token=x#secret=SEC...`: the bridge signs and never sends the fragment.
 * A robot error (errcode != 0, HTTP error, timeout) answers 502, so Alertmanager retries and counts the failure
 * in alertmanager_notifications_failed_total.
 *
 * Shipped verbatim in a ConfigMap (components/observability/chat-bridge.ts) and run by a pinned Node image, which
 * is why it is plain JavaScript with Node built-ins only; test/observability-bridge.test.ts runs this exact file.
 */
"use strict";
const http = require("node:http");
const fs = require("node:fs");
const crypto = require("node:crypto");

const PORT = Number(process.env.PORT || 8080);
const TARGETS_FILE = process.env.TARGETS_FILE || "/etc/chat-bridge/targets.json";
const TIMEOUT_MS = Number(process.env.ROBOT_TIMEOUT_MS || 10000);
const MAX_BODY = 1024 * 1024;
const MAX_BYTES = 4000;
const MAX_ALERTS = 10;

function loadTargets() {
  return JSON.parse(fs.readFileSync(TARGETS_FILE, "utf8"));
}

function truncateBytes(text, max) {
  if (Buffer.byteLength(text, "utf8") <= max) return text;
  let out = text;
  while (Buffer.byteLength(out + "\n...", "utf8") > max) out = out.slice(0, Math.max(0, out.length - 64));
  return out + "\n...";
}

function title(msg) {
  const firing = (msg.alerts || []).filter((a) => a.status === "firing").length;
  const labels = msg.commonLabels || {};
  const status = String(msg.status || "firing").toUpperCase();
  return (
    "[" +
    status +
    (msg.status === "firing" ? ":" + firing : "") +
    "] " +
    (labels.alertname || "alerts") +
    (labels.model ? " " + labels.model : "")
  );
}

function markdown(msg, kind) {
  const alerts = msg.alerts || [];
  const lines = ["### " + title(msg)];
  for (const a of alerts.slice(0, MAX_ALERTS)) {
    const l = a.labels || {};
    const an = a.annotations || {};
    const sev = l.severity || "none";
    const color = a.status === "resolved" ? "info" : sev === "critical" ? "warning" : "comment";
    const head =
      "**" + (a.status === "resolved" ? "RESOLVED" : "FIRING") + "** " + (l.alertname || "") + " (" + sev + ")";
    lines.push(kind === "wecom" ? '<font color="' + color + '">' + head + "</font>" : head);
    if (an.summary) lines.push("> " + an.summary);
    if (an.description) lines.push(an.description);
    if (an.runbook_url) lines.push("[Runbook](" + an.runbook_url + ")");
    lines.push("");
  }
  if (alerts.length > MAX_ALERTS) lines.push("... and " + (alerts.length - MAX_ALERTS) + " more");
  return truncateBytes(lines.join("\n"), MAX_BYTES);
}

function robotRequest(kind, target, msg) {
  const hash = target.url.indexOf("#");
  let url = hash >= 0 ? target.url.slice(0, hash) : target.url;
  const fragment = hash >= 0 ? new URLSearchParams(target.url.slice(hash + 1)) : new URLSearchParams();
  if (kind === "wecom") return { url, body: { msgtype: "markdown", markdown: { content: markdown(msg, kind) } } };
  const secret = fragment.get("secret");
  if (secret) {
    const ts = Date.now();
    const sign = crypto
      .createHmac("sha256", secret)
      .update(ts + "\n" + secret)
      .digest("base64");
    url += (url.includes("?") ? "&" : "?") + "timestamp=" + ts + "&sign=" + encodeURIComponent(sign);
  }
  return { url, body: { msgtype: "markdown", markdown: { title: title(msg), text: markdown(msg, kind) } } };
}

async function deliver(kind, target, msg) {
  const req = robotRequest(kind, target, msg);
  const res = await fetch(req.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(req.body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error("robot answered HTTP " + res.status);
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new Error("robot answered non-JSON");
  }
  if (answer.errcode !== 0) throw new Error("robot errcode " + answer.errcode + ": " + answer.errmsg);
}

function reply(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain" });
  res.end(text + "\n");
}

const server = http.createServer((req, res) => {
  const path = (req.url || "/").split("?")[0];
  if (req.method === "GET" && path === "/healthz") return reply(res, 200, "ok");
  const m = /^\/(wecom|dingtalk)\/([a-z][-a-z0-9]*)$/.exec(path);
  if (req.method !== "POST" || !m) return reply(res, 404, "POST /wecom/<receiver> or /dingtalk/<receiver>");
  const kind = m[1];
  const name = m[2];
  let size = 0;
  const chunks = [];
  req.on("data", (c) => {
    size += c.length;
    if (size > MAX_BODY) req.destroy();
    else chunks.push(c);
  });
  req.on("end", async () => {
    let msg;
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return reply(res, 400, "body is not JSON");
    }
    let target;
    try {
      target = loadTargets()[name];
    } catch {
      return reply(res, 500, "cannot read targets file");
    }
    if (!target || target.type !== kind) return reply(res, 404, "no " + kind + " receiver named " + name);
    try {
      await deliver(kind, target, msg);
      reply(res, 200, "delivered");
    } catch (e) {
      // Never log the URL: it carries the robot's token.
      console.error("receiver " + name + ": " + e.message);
      reply(res, 502, "delivery failed: " + e.message);
    }
  });
});

server.listen(PORT, process.env.HOST || "0.0.0.0", () =>
  console.log("chat-bridge listening on " + server.address().port),
);
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
