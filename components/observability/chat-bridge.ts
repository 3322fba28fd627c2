import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { childOptions, derivedChild, standardLabels } from "../k8s/meta";
import { chatBridgePolicySpec } from "../k8s/network-policies";
import { CHAT_BRIDGE_SCRIPT } from "./chat-bridge-program";
import { IMAGES } from "../versions";
import { NODE_IMAGE_UID, nonRootPodSecurity, restrictedContainerSecurity } from "../k8s/pod-security";

/**
 * Node runtime of the bridge: official image, pinned (components/versions.ts). The script uses only
 * Node built-ins (http, crypto, fetch), so any Node >= 20 image works; bump the tag with security releases.
 */
const CHAT_BRIDGE_IMAGE = `${IMAGES.chatBridgeNode.repository}:${IMAGES.chatBridgeNode.tag}`;
const CHAT_BRIDGE_NAME = "chat-bridge";
export const CHAT_BRIDGE_PORT = 8080;

export function chatBridgeUrl(namespace: string): string {
  return `http://${CHAT_BRIDGE_NAME}.${namespace}.svc:${CHAT_BRIDGE_PORT}`;
}

/** Labels of the bridge's pods (its Service and NetworkPolicies select them). */
export const CHAT_BRIDGE_POD_LABELS: Readonly<Record<string, string>> = { "app.kubernetes.io/name": CHAT_BRIDGE_NAME };

interface ChatBridgeArgs {
  /** The creating component's name: the resource names derive from it (`<component>-chat-bridge`, ...). */
  readonly component: string;
  readonly parent: pulumi.Resource;
  readonly provider: k8s.Provider;
  readonly namespace: pulumi.Input<string>;
  /** JSON of bridgeTargets(): robot URL by receiver name, a secret Output. */
  readonly targetsJson: pulumi.Output<string>;
  readonly replicas: number;
}

/** The bridge from Alertmanager's webhook to WeCom / DingTalk robots: script, targets, Deployment, Service. */
export function createChatBridge(args: ChatBridgeArgs): k8s.core.v1.Service {
  const opts = childOptions(args.parent, args.provider);
  // Resource names derive from the component's; the literal each had before is its alias.
  const named = (formerName: string) => {
    const child = derivedChild(args.component, formerName, formerName);
    return { name: child.name, opts: { ...opts, ...child.opts } };
  };
  const scriptName = named(`${CHAT_BRIDGE_NAME}-script`);
  const targetsName = named(`${CHAT_BRIDGE_NAME}-targets`);
  const bridge = named(CHAT_BRIDGE_NAME);
  const netpolName = named(`${CHAT_BRIDGE_NAME}-netpol`);
  const labels = standardLabels(CHAT_BRIDGE_NAME, "alert-bridge");
  const selector = CHAT_BRIDGE_POD_LABELS;
  const meta = { name: CHAT_BRIDGE_NAME, namespace: args.namespace, labels };
  const script = new k8s.core.v1.ConfigMap(
    scriptName.name,
    { metadata: { ...meta, name: `${CHAT_BRIDGE_NAME}-script` }, data: { "chat-bridge.js": CHAT_BRIDGE_SCRIPT } },
    scriptName.opts,
  );
  const targets = new k8s.core.v1.Secret(
    targetsName.name,
    {
      metadata: { ...meta, name: `${CHAT_BRIDGE_NAME}-targets` },
      type: "Opaque",
      stringData: { "targets.json": pulumi.secret(args.targetsJson) },
    },
    targetsName.opts,
  );
  new k8s.apps.v1.Deployment(
    bridge.name,
    {
      metadata: meta,
      spec: {
        replicas: args.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: nonRootPodSecurity(NODE_IMAGE_UID),
            containers: [
              {
                name: CHAT_BRIDGE_NAME,
                image: CHAT_BRIDGE_IMAGE,
                command: ["node", "/app/chat-bridge.js"],
                env: [
                  { name: "PORT", value: String(CHAT_BRIDGE_PORT) },
                  { name: "TARGETS_FILE", value: "/etc/chat-bridge/targets.json" },
                ],
                ports: [{ name: "http", containerPort: CHAT_BRIDGE_PORT }],
                readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10 },
                livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 20, failureThreshold: 3 },
                resources: { requests: { cpu: "10m", memory: "48Mi" }, limits: { memory: "128Mi" } },
                securityContext: restrictedContainerSecurity(),
                volumeMounts: [
                  { name: "script", mountPath: "/app", readOnly: true },
                  { name: "targets", mountPath: "/etc/chat-bridge", readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "script", configMap: { name: script.metadata.name } },
              { name: "targets", secret: { secretName: targets.metadata.name } },
            ],
          },
        },
      },
    },
    bridge.opts,
  );
  // Only Alertmanager may post; the bridge may only resolve names and call HTTPS webhooks (docs/security.md).
  new k8s.networking.v1.NetworkPolicy(
    netpolName.name,
    { metadata: meta, spec: chatBridgePolicySpec(CHAT_BRIDGE_POD_LABELS, CHAT_BRIDGE_PORT) },
    netpolName.opts,
  );
  return new k8s.core.v1.Service(
    bridge.name,
    {
      metadata: meta,
      spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: CHAT_BRIDGE_PORT, targetPort: "http" }] },
    },
    bridge.opts,
  );
}
