// The quality canary's objects as planQualityCanary computes them (no Pulumi runtime): what the pod mounts and
// reads is what the plan creates, the API key is wired only when there is one, names follow the component, and the
// NetworkPolicy opens exactly the namespaces of the Services the canary calls.
import { describe, expect, it } from "vitest";
import { CanarySchema, type CanaryConfig } from "../components/config";
import { SHIPPED_MODELS, parseModel } from "./fixtures/serving";
import { CANARY_METRICS_PORT } from "../components/contracts/canary";
import {
  canaryConfigFile,
  canaryConfigHash,
  namespacePeers,
  namespacesOfUrls,
  planQualityCanary,
  type QualityCanaryPlanInputs,
} from "../components/observability/quality-canary-plan";

const bge = parseModel(SHIPPED_MODELS.bgeLargeZh);

const inputs = (over: Partial<QualityCanaryPlanInputs> & { canary?: CanaryConfig } = {}): QualityCanaryPlanInputs => ({
  name: "quality-canary",
  namespace: "retrieval",
  canary: CanarySchema.parse({}),
  models: [bge.name],
  image: "registry.example.com/verifier@sha256:abc",
  configFile: "{}",
  configHash: "0123456789ab",
  calledPeers: namespacePeers(["retrieval"]),
  monitoring: true,
  ...over,
});

type Container = {
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  volumeMounts: { name: string; mountPath: string }[];
};
const podOf = (plan: ReturnType<typeof planQualityCanary>) =>
  (plan.deployment.args.spec as any).template.spec as {
    containers: Container[];
    volumes: { name: string; configMap?: { name: string }; projected?: { sources: unknown[] } }[];
  };

describe("planQualityCanary", () => {
  it("the pod reads its config file from the ConfigMap the plan creates, at the path it is told", () => {
    const plan = planQualityCanary(inputs());
    const pod = podOf(plan);
    const c = pod.containers[0]!;
    const file = c.env.find((e) => e.name === "CANARY_CONFIG_FILE")!.value!;
    const mount = c.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`))!;
    const volume = pod.volumes.find((v) => v.name === mount.name)!;
    const cm = plan.configMap.args as { metadata: { name: string }; data: Record<string, string> };
    expect(volume.configMap?.name).toBe(cm.metadata.name);
    expect(Object.keys(cm.data)).toEqual([file.slice(mount.mountPath.length + 1)]);
    // A new config restarts the pod, which reads it once at start.
    expect((plan.deployment.args.spec as any).template.metadata.annotations).toEqual({
      "retrieval-stack.io/config-hash": "0123456789ab",
    });
  });

  it("an API key becomes a Secret the container reads as CANARY_API_KEY; without one neither exists", () => {
    const withKey = planQualityCanary(inputs({ apiKey: "canary-key-0123456789" }));
    const secret = withKey.apiKeySecret!.args as { metadata: { name: string }; stringData: Record<string, string> };
    const ref = podOf(withKey).containers[0]!.env.find((e) => e.name === "CANARY_API_KEY")!.valueFrom!.secretKeyRef;
    expect(ref.name).toBe(secret.metadata.name);
    expect(secret.stringData[ref.key]).toBe("canary-key-0123456789");

    const without = planQualityCanary(inputs());
    expect(without.apiKeySecret).toBeUndefined();
    expect(podOf(without).containers[0]!.env.map((e) => e.name)).toEqual(["CANARY_CONFIG_FILE"]);
  });

  it("mounts the user's labelled set from its ConfigMap only when one is configured", () => {
    const own = planQualityCanary(inputs({ canary: CanarySchema.parse({ userSet: { configMap: "our-queries" } }) }));
    expect(podOf(own).volumes.map((v) => v.configMap?.name)).toContain("our-queries");
    expect(podOf(planQualityCanary(inputs())).volumes.map((v) => v.name)).not.toContain("user-set");
  });

  it("mounts every model's recorded fingerprint from its own optional ConfigMap, never inline in its config", () => {
    const pod = podOf(planQualityCanary(inputs({ models: ["bge", "gte"] })));
    const fingerprints = pod.volumes.find((v) => v.name === "fingerprints")!;
    expect(fingerprints.projected!.sources).toEqual([
      { configMap: { name: "fingerprint-bge", optional: true } },
      { configMap: { name: "fingerprint-gte", optional: true } },
    ]);
    expect(pod.containers[0]!.volumeMounts.map((m) => m.name)).toContain("fingerprints");
  });

  it("creates the ServiceMonitor only with monitoring on, scraping the Service's metrics port", () => {
    const plan = planQualityCanary(inputs());
    const port = (plan.service.args.spec as any).ports[0].name;
    expect((plan.serviceMonitor!.args.spec as any).endpoints[0].port).toBe(port);
    expect(planQualityCanary(inputs({ monitoring: false })).serviceMonitor).toBeUndefined();
  });

  it("names every resource after the component, so two canaries never share a resource name", () => {
    const names = (n: string) => {
      const p = planQualityCanary(inputs({ name: n }));
      return [p.configMap, p.apiKeySecret, p.deployment, p.service, p.serviceMonitor, p.networkPolicy]
        .filter((x) => x !== undefined)
        .map((x) => x.resourceName);
    };
    for (const n of names("canary-eu")) expect(n.startsWith("canary-eu")).toBe(true);
    expect(names("a").some((n) => names("b").includes(n))).toBe(false);
  });

  it("lets out DNS and the namespaces it calls, and in only Prometheus' pods on the metrics port", () => {
    const plan = planQualityCanary(
      inputs({ calledPeers: namespacePeers(namespacesOfUrls(["http://gw.gateway.svc"])) }),
    );
    const spec = plan.networkPolicy.args.spec as any;
    expect(spec.egress).toHaveLength(2);
    expect(spec.egress[1].to).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateway" } } },
    ]);
    // Prometheus' pods (namespace AND pod labels), not every pod of the monitoring namespace.
    expect(spec.ingress[0].from).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
      },
    ]);
    expect(spec.ingress[0].ports).toEqual([{ protocol: "TCP", port: CANARY_METRICS_PORT }]);
  });
});

describe("what the constructor resolves before planning", () => {
  it("the namespaces of in-cluster Service URLs, each once, in order; any other URL counts as the models' namespace", () => {
    expect(
      namespacesOfUrls([
        "http://bge.retrieval.svc.cluster.local",
        "http://gateway.gateway.svc:8080",
        "http://rerank.retrieval.svc/v1",
        "https://api.example.com",
      ]),
    ).toEqual(["retrieval", "gateway"]);
  });

  it("the config file carries each model's recorded fingerprint and calls through the gateway when given", () => {
    const fingerprint = { kind: "embed", probes: [] } as never;
    const file = canaryConfigFile({
      canary: CanarySchema.parse({}),
      targets: [{ model: bge, url: "http://bge-large-zh.retrieval.svc" }],
      gatewayUrl: "http://gateway.gateway.svc",
      fingerprints: { "bge-large-zh": fingerprint, other: fingerprint },
    });
    const raw = JSON.parse(file);
    expect(raw.targets.map((t: { url: string; fingerprint?: unknown }) => [t.url, t.fingerprint])).toEqual([
      ["http://gateway.gateway.svc", fingerprint],
    ]);
    expect(raw.intervalSeconds).toBe(300);
  });

  it("the config hash changes with the config and only with it", () => {
    expect(canaryConfigHash("{}")).toBe(canaryConfigHash("{}"));
    expect(canaryConfigHash("{}")).not.toBe(canaryConfigHash('{"intervalSeconds":60}'));
    expect(canaryConfigHash("{}")).toMatch(/^[0-9a-f]{12}$/);
  });
});
