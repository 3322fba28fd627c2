// Child resource names derive from the component's name: two instances of a component in one stack register no
// URN twice (the Pulumi engine refuses a duplicate URN), and a child whose name used to be a literal keeps that
// literal as an alias, so an existing stack renames it in its state instead of replacing the object.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { EnginesSchema } from "../components/config/engines";
import { Ingress } from "../components/ingress";
import { EnginePrerequisites } from "../components/serving/engine-prerequisites";
import { Observability } from "../components/observability";
import { secretInputs } from "../components/validation";
import { parseStack } from "./config-helpers";
import { GpuRuntime } from "../components/gpu";
import { Keda } from "../components/serving/keda";
import { ModelService } from "../components/serving/model-service";
import { SHIPPED_MODELS } from "./fixtures/serving";
import { renderResources, type Rendered } from "./harness";
import { EVERY_ENGINE, KEYS, PROD_INGRESS, ingressConfig } from "./fixtures/ingress";

/** URNs registered more than once. */
const duplicateUrns = (r: Rendered) => {
  const seen = new Set<string>();
  return r.resources.map((x) => x.urn).filter((u) => (seen.has(u) ? true : (seen.add(u), false)));
};

const ingressArgs = (provider: k8s.Provider) => ({
  provider,
  environment: "prod" as const,
  ingress: ingressConfig(PROD_INGRESS),
  models: EVERY_ENGINE,
  modelNamespace: "retrieval",
  apiKeys: pulumi.secret(KEYS) as pulumi.Output<string[]>,
  monitoring: true,
  gateway: { service: "gateway", port: 80 },
});

describe("two components of a kind in one stack", () => {
  it("two Ingresses register every child under its own name", async () => {
    const r = await renderResources(() => {
      const provider = new k8s.Provider("k8s", {});
      new Ingress("public", ingressArgs(provider));
      new Ingress("internal", ingressArgs(provider));
    });
    expect(duplicateUrns(r)).toEqual([]);
    const children = r.resources.filter((x) => x.parentUrn?.endsWith("::public"));
    // Every kind of child is there (namespace, cert-manager, controller, TLS, keys, limits, routes, metrics).
    expect(children.length).toBeGreaterThanOrEqual(15);
    for (const c of children) expect(c.name, c.type).toMatch(/^public-/);
  });

  it("two EnginePrerequisites (KServe, cert-manager of their own) register every child under its own name", async () => {
    const r = await renderResources(() => {
      const provider = new k8s.Provider("k8s", {});
      for (const name of ["serving-a", "serving-b"])
        new EnginePrerequisites(name, {
          provider,
          environment: "prod",
          models: EVERY_ENGINE.filter((m) => m.engine === "kserve"),
          engines: EnginesSchema.parse({}),
          monitoring: false,
          ingress: {
            config: ingressConfig({ enabled: false }),
            component: new pulumi.ComponentResource("t:x:Y", name),
          },
        });
    });
    expect(duplicateUrns(r)).toEqual([]);
    const children = r.resources.filter((x) => x.parentUrn?.endsWith("::serving-a") && x.type !== "t:x:Y");
    expect(children.map((c) => c.type)).toEqual(
      expect.arrayContaining(["kubernetes:helm.sh/v3:Release", "kubernetes:core/v1:Namespace"]),
    );
    for (const c of children) expect(c.name, c.type).toMatch(/^serving-a-/);
  });
});

describe("the components whose children were already named after them", () => {
  it("two GpuRuntimes, two Kedas and two ModelServices of one model register no URN twice", async () => {
    const prod = parseStack("prod");
    const r = await renderResources(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
      for (const name of ["a", "b"]) {
        new GpuRuntime(`gpu-${name}`, { provider, gpuNodeGroups: prod.gpuNodeGroups, monitoring: true });
        new Keda(`keda-${name}`, { provider, monitoring: true });
        new ModelService(`bge-${name}`, {
          provider,
          environment: "prod",
          model: SHIPPED_MODELS.bgeLargeZh,
          gpuInstanceType: "g6.xlarge",
        });
      }
    });
    expect(r.resources.length).toBeGreaterThan(20);
    expect(duplicateUrns(r)).toEqual([]);
  });
});

describe("two Observability components in one stack", () => {
  const prod = parseStack("prod");
  const observability = (name: string) =>
    new Observability(name, {
      provider: new k8s.Provider(`${name}-k8s`, { kubeconfig: "offline" }),
      environment: "prod",
      observability: prod.observability,
      models: prod.models,
      secrets: secretInputs({
        grafanaAdminPassword: "grafana-password-0123",
        alertReceiverUrls: Object.fromEntries(
          prod.observability.receivers.map((r) => [r.urlSecretKey, "https://hooks.example.com/x"]),
        ),
      }),
      logs: {},
      gateway: { enabled: true },
    });

  it("register every child (Prometheus, Alertmanager, chat bridge, dashboards, rules, logs) under its own name", async () => {
    const r = await renderResources(() => {
      observability("metrics-a");
      observability("metrics-b");
    });
    expect(duplicateUrns(r)).toEqual([]);
    const children = r.resources.filter((x) => x.parentUrn?.endsWith("::metrics-a"));
    expect(children.length).toBeGreaterThanOrEqual(10);
    for (const c of children) expect(c.name, c.type).toMatch(/^metrics-a-/);
  });

  it("the stack's own keeps each child's former literal name as an alias", async () => {
    const r = await renderResources(() => {
      observability("observability");
    });
    const aliasesOf = (type: string, name: string) => r.get(type, name).options.aliases;
    expect(aliasesOf("kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack")).toEqual([
      "kube-prometheus-stack",
    ]);
    expect(aliasesOf("kubernetes:core/v1:Namespace", "observability-namespace")).toEqual(["monitoring"]);
    expect(aliasesOf("retrieval-stack:observability:LogStack", "observability-logs")).toEqual(["logs"]);
    expect(aliasesOf("kubernetes:helm.sh/v3:Release", "observability-logs-loki")).toEqual(["loki"]);
  });
});

describe("an existing stack keeps its ingress objects", () => {
  it("each renamed child of the stack's Ingress carries the literal name it had as an alias", async () => {
    const r = await renderResources(() => {
      new Ingress("ingress", ingressArgs(new k8s.Provider("k8s", {})));
    });
    const aliasesOf = (type: string, name: string) => r.get(type, name).options.aliases;
    // The names the stack's resources had before they derived from the component's name.
    const former: [string, string, string][] = [
      ["kubernetes:core/v1:Namespace", "ingress-namespace", "ingress"],
      ["kubernetes:core/v1:Namespace", "ingress-cert-manager-namespace", "cert-manager"],
      ["kubernetes:helm.sh/v3:Release", "ingress-cert-manager", "cert-manager"],
      ["kubernetes:helm.sh/v3:Release", "ingress-controller", "nginx-ingress"],
      ["kubernetes:cert-manager.io/v1:ClusterIssuer", "ingress-cluster-issuer", "cluster-issuer"],
      ["kubernetes:cert-manager.io/v1:Certificate", "ingress-certificate", "certificate"],
      ["kubernetes:core/v1:Secret", "ingress-api-keys", "api-keys"],
      ["kubernetes:k8s.nginx.org/v1:Policy", "ingress-api-key-policy", "api-key-policy"],
      ["kubernetes:k8s.nginx.org/v1:Policy", "ingress-rate-limit-gateway", "rate-limit-gateway"],
      ["kubernetes:k8s.nginx.org/v1:Policy", "ingress-rate-limit-qwen3-reranker", "rate-limit-qwen3-reranker"],
      ["kubernetes:k8s.nginx.org/v1:VirtualServer", "ingress-virtual-server", "retrieval-api"],
    ];
    for (const [type, name, was] of former) expect(aliasesOf(type, name), name).toEqual([was]);
    // Children whose derived name equals the one they had need no alias.
    expect(aliasesOf("kubernetes:networking.k8s.io/v1:NetworkPolicy", "ingress-controller-netpol")).toBeUndefined();
  });

  it("the Kubernetes objects keep their names (a rename in Pulumi's state only)", async () => {
    const r = await renderResources(() => {
      new Ingress("public", ingressArgs(new k8s.Provider("k8s", {})));
    });
    expect(r.objects("VirtualServer").map((v) => v.metadata.name)).toEqual(["retrieval-api"]);
    expect(r.inputs("kubernetes:helm.sh/v3:Release", "public-controller").name).toBe("nginx-ingress");
  });
});
