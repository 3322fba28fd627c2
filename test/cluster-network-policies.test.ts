// NetworkPolicies and Pod Security Admission labels of the platform's own workloads: the ingress controller, the
// chat bridge and Alertmanager, and the namespaces the ingress, TLS, GPU runtime and observability components create.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { Observability } from "../components/observability";
import { GpuRuntime } from "../components/gpu/gpu-runtime";
import { secretInputs } from "../components/validation";
import {
  INGRESS_CONTROLLER_PODS,
  NAMESPACE_NAME_LABEL,
  NAMESPACE_POD_SECURITY,
  PROMETHEUS_PODS,
} from "../components/k8s/namespaces";
import { HELM, PROD_INGRESS, renderIngress } from "./fixtures/ingress";
import { parseStack } from "./config-helpers";
import { renderResources, type Rendered } from "./harness";
import { sharedPlan } from "./shared-plans";

const PSA = "pod-security.kubernetes.io/";
const netpol = (r: Rendered, namespace: string, name: string) =>
  r.objects("NetworkPolicy").find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
const prometheusPeer = {
  namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: PROMETHEUS_PODS.namespace } },
  podSelector: { matchLabels: PROMETHEUS_PODS.podLabels },
};

async function renderObservability(): Promise<Rendered> {
  const prod = parseStack("prod");
  return renderResources(() => {
    const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
    new Observability("observability", {
      provider,
      environment: "prod",
      observability: prod.observability,
      models: prod.models,
      secrets: secretInputs({
        grafanaAdminPassword: "offline-password-123",
        alertReceiverUrls: {
          wecom: "https://qyapi.weixin.qq.com/x",
          dingtalk: "https://oapi.dingtalk.com/x",
          audit: "https://audit.example.com/x",
        },
      }),
    });
    new GpuRuntime("gpu", { provider, gpuNodeGroups: prod.gpuNodeGroups, monitoring: true });
  });
}

describe("ingress controller NetworkPolicy", () => {
  it("selects exactly the controller's pods (the labels the chart puts on them), which serving imports", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const values = rendered.inputs(HELM, "ingress-controller").values.controller;
    expect(values.selectorLabels).toEqual(INGRESS_CONTROLLER_PODS.podLabels);
    const p = netpol(rendered, "ingress", "nginx-ingress")!;
    expect(p.spec.podSelector).toEqual({ matchLabels: INGRESS_CONTROLLER_PODS.podLabels });
  });

  it("admits HTTP(S) from anywhere and the metrics port only from Prometheus pods; nothing else", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const p = netpol(rendered, "ingress", "nginx-ingress")!;
    expect(p.spec.policyTypes).toEqual(["Ingress"]);
    expect(p.spec.ingress).toEqual([
      {
        ports: [
          { protocol: "TCP", port: 80 },
          { protocol: "TCP", port: 443 },
        ],
      },
      { from: [prometheusPeer], ports: [{ protocol: "TCP", port: 9113 }] },
    ]);
    // The metrics port is the one the chart's exporter listens on.
    expect(rendered.inputs(HELM, "ingress-controller").values.prometheus.port).toBe(9113);
  });
});

describe("chat bridge and Alertmanager NetworkPolicies", () => {
  const rendered = renderObservability();

  it("only Alertmanager may post to the chat bridge, which may only resolve names and call HTTPS", async () => {
    const r = await rendered;
    const p = netpol(r, "monitoring", "chat-bridge")!;
    const bridge = r.objects("Deployment").find((d) => d.metadata.name === "chat-bridge")!;
    expect(p.spec.podSelector.matchLabels).toEqual(
      expect.objectContaining(bridge.spec.selector.matchLabels as Record<string, string>),
    );
    expect(p.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(p.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: "monitoring" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "alertmanager" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 8080 }],
      },
    ]);
    const egressPorts = p.spec.egress.flatMap((e: any) => e.ports.map((x: any) => `${x.protocol}/${x.port}`));
    expect(egressPorts.sort()).toEqual(["TCP/443", "TCP/53", "UDP/53"]);
  });

  it("Alertmanager: Prometheus and Grafana in, peers on the mesh port, out only to DNS, the bridge, peers and HTTPS", async () => {
    const r = await rendered;
    const p = netpol(r, "monitoring", "alertmanager")!;
    expect(p.spec.podSelector).toEqual({ matchLabels: { "app.kubernetes.io/name": "alertmanager" } });
    expect(p.spec.ingress[0]).toEqual({
      from: [prometheusPeer],
      ports: [
        { protocol: "TCP", port: 9093 },
        { protocol: "TCP", port: 8080 },
      ],
    });
    expect(p.spec.egress).toContainEqual({
      to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "chat-bridge" } } }],
      ports: [{ protocol: "TCP", port: 8080 }],
    });
    const anywhere = p.spec.egress.filter((e: any) => e.to?.some((t: any) => t.ipBlock));
    expect(anywhere).toEqual([{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }]);
  });
});

describe("Pod Security Admission labels on the namespaces we create", () => {
  it("ingress and cert-manager enforce restricted; GPU runtime and monitoring privileged, audited at restricted", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const namespaces = [...rendered.objects("Namespace"), ...(await renderObservability()).objects("Namespace")];
    const labels = (name: string) => namespaces.find((n) => n.metadata.name === name)!.metadata.labels;
    const expected = {
      ingress: "restricted",
      "cert-manager": "restricted",
      "gpu-runtime": "privileged",
      monitoring: "privileged",
    };
    for (const [name, level] of Object.entries(expected)) {
      expect(labels(name)[`${PSA}enforce`], name).toBe(level);
      expect(labels(name)[`${PSA}warn`], name).toBe(level);
      expect(labels(name)[`${PSA}audit`], name).toBe("restricted");
      expect(NAMESPACE_POD_SECURITY[name]!.why.length, `${name}: the reason is written down`).toBeGreaterThan(20);
    }
    for (const n of namespaces) expect(n.metadata.labels[`${PSA}enforce`], n.metadata.name).toBeDefined();
  });
});

describe("Pod Security Admission labels in the rendered prod stack", () => {
  it("every namespace the stack creates enforces a level", async () => {
    const { out, result } = await sharedPlan("prod");
    expect(result.code, result.stderr).toBe(0);
    const dir = path.join(out, "manifests", "_cluster");
    const namespaces = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith("namespace-"))
      .map((f) => YAML.parse(fs.readFileSync(path.join(dir, f), "utf8")));
    const unlabelled = namespaces
      .filter((n) => !n.metadata.labels?.[`${PSA}enforce`])
      .map((n) => n.metadata.name)
      .sort();
    expect(unlabelled).toEqual([]);
    const level = (name: string) => namespaces.find((n) => n.metadata.name === name)!.metadata.labels[`${PSA}enforce`];
    expect(level("keda")).toBe("restricted");
    expect(level("kserve")).toBe("restricted");
    expect(level("retrieval")).toBe("privileged");
  });
});
