import type { ReceiverConfig, Severity } from "../config";
import { RECEIVER_URL_FIX, receiverUrlProblem } from "../config/secrets";

/**
 * The Alertmanager configuration (prometheus.io/docs/alerting/latest/configuration, Alertmanager 0.28+).
 * Built from plain values: the component calls it inside a secret Output, so the receiver URLs never leave it.
 */
interface AlertmanagerConfig {
  global: { resolve_timeout: string };
  route: Route;
  inhibit_rules: InhibitRule[];
  receivers: Receiver[];
}
interface Route {
  receiver: string;
  matchers?: string[];
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  continue?: boolean;
  routes?: Route[];
}
interface InhibitRule {
  source_matchers: string[];
  target_matchers: string[];
  equal: string[];
}
interface Receiver {
  name: string;
  webhook_configs?: { url: string; send_resolved: boolean; max_alerts?: number }[];
  slack_configs?: { api_url: string; channel: string; send_resolved: boolean; title: string; text: string }[];
}

/** Receiver of last resort: alerts no route claims (e.g. kube-prometheus-stack's Watchdog) are dropped here. */
export const NULL_RECEIVER = "null";

/** How often a still-firing alert is sent again: pages more often than warnings. */
const REPEAT: Record<Severity, string> = { critical: "1h", warning: "4h", info: "12h" };

/** Robots that cannot read Alertmanager's webhook JSON: they go through the chat bridge (chat-bridge.ts). */
const BRIDGED_TYPES = ["wecom", "dingtalk"] as const satisfies readonly ReceiverConfig["type"][];
export const isBridged = (r: ReceiverConfig): boolean => (BRIDGED_TYPES as readonly string[]).includes(r.type);

/** Path of a bridged receiver on the chat bridge: /<type>/<receiver name>. */
const bridgePath = (r: ReceiverConfig): string => `/${r.type}/${r.name}`;

const SLACK_TEXT =
  "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n<{{ .Annotations.runbook_url }}|Runbook>\n{{ end }}";
const SLACK_TITLE =
  '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }}{{ with .CommonLabels.model }} {{ . }}{{ end }}';

/**
 * @param urls receiver URL by urlSecretKey (the secret `alertReceiverUrls`)
 * @param bridgeBaseUrl in-cluster URL of the chat bridge, e.g. http://chat-bridge.monitoring.svc:8080
 */
export function buildAlertmanagerConfig(
  receivers: readonly ReceiverConfig[],
  urls: Readonly<Record<string, string>>,
  bridgeBaseUrl: string,
): AlertmanagerConfig {
  const urlOf = (r: ReceiverConfig): string => {
    const url = urls[r.urlSecretKey];
    if (!url)
      throw new Error(
        `observability.receivers "${r.name}": no URL under alertReceiverUrls.${r.urlSecretKey}. Fix: pulumi config set --secret --path 'alertReceiverUrls.${r.urlSecretKey}' <webhook URL>.`,
      );
    // The egress of Alertmanager and the bridge allows TCP 443 only: any other URL would fail silently at runtime.
    const what = receiverUrlProblem(url);
    if (what)
      throw new Error(
        `observability.receivers "${r.name}": alertReceiverUrls.${r.urlSecretKey} ${what}. Fix: ${RECEIVER_URL_FIX}.`,
      );
    return url;
  };
  const toReceiver = (r: ReceiverConfig): Receiver => {
    if (isBridged(r))
      return { name: r.name, webhook_configs: [{ url: `${bridgeBaseUrl}${bridgePath(r)}`, send_resolved: true }] };
    switch (r.type) {
      case "slack":
        return {
          name: r.name,
          slack_configs: [
            { api_url: urlOf(r), channel: r.channel ?? "", send_resolved: true, title: SLACK_TITLE, text: SLACK_TEXT },
          ],
        };
      default:
        return { name: r.name, webhook_configs: [{ url: urlOf(r), send_resolved: true, max_alerts: 0 }] };
    }
  };
  // Bridged receivers still need their URL: fail here too, so a missing key is caught before deploy.
  receivers.filter(isBridged).forEach(urlOf);

  const routes: Route[] = receivers.map((r) => ({
    receiver: r.name,
    matchers: [`severity=~"${[...r.severities].sort().join("|")}"`],
    repeat_interval: REPEAT[mostSevere(r.severities)],
    // Every receiver whose severities match gets the alert, not just the first.
    continue: true,
  }));
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: NULL_RECEIVER,
      group_by: ["alertname", "namespace", "model", "node_group"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: REPEAT.warning,
      routes,
    },
    inhibit_rules: [
      // While a model's critical alert fires (e.g. ModelServiceDown), its warnings (latency, metrics missing...)
      // are noise. `model=~".+"` keeps model-less critical alerts from inhibiting every model-less warning.
      {
        source_matchers: ['severity="critical"', 'model=~".+"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: ["namespace", "model"],
      },
    ],
    receivers: [{ name: NULL_RECEIVER }, ...receivers.map(toReceiver)],
  };
}

function mostSevere(severities: readonly Severity[]): Severity {
  return severities.includes("critical") ? "critical" : severities.includes("warning") ? "warning" : "info";
}

/** The chat bridge's targets file: robot URL by receiver name (secret, mounted into the bridge only). */
export function bridgeTargets(
  receivers: readonly ReceiverConfig[],
  urls: Readonly<Record<string, string>>,
): Record<string, { type: string; url: string }> {
  return Object.fromEntries(
    receivers.filter(isBridged).map((r) => [r.name, { type: r.type, url: urls[r.urlSecretKey] ?? "" }]),
  );
}
