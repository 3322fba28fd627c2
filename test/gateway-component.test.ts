import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Gateway, GATEWAY_SERVICE, REDIS_IMAGE, hashedKeys } from "../components/gateway";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import { virtualServerSpec } from "../components/ingress/nginx-ingress/objects";
import { gatewayRoute, routeTable } from "../components/ingress/routes";
import { parseStack } from "./config-helpers";
import { renderResources, type Rendered } from "./harness";

/** The gateway's Kubernetes objects per environment, rendered under the offline Pulumi runtime. */
async function render(stack: string, keys: string[] | null = ["k".repeat(24)], monitoring = true): Promise<Rendered> {
  const config = parseStack(stack);
  return renderResources(() => {
    const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
    new Gateway("gateway", {
      provider,
      environment: config.environment,
      gateway: config.gateway,
      models: config.models,
      ...(keys ? { apiKeys: pulumi.secret(keys) } : {}),
      monitoring,
    });
  });
}

describe("Gateway component", () => {
  it("prod: 2+ replicas over zones, PDB, KEDA on request rate and in-flight, ServiceMonitor, Redis from the official Valkey image", async () => {
    const r = await render("prod");
    const dep = r.objects("Deployment").find((d) => d.metadata.name === GATEWAY_SERVICE)!;
    expect(dep.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(dep.spec.template.spec.topologySpreadConstraints[0]).toMatchObject({
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "DoNotSchedule",
    });
    expect(dep.spec.template.metadata.labels["retrieval-stack.io/engine-client"]).toBe("true");
    expect(r.objects("PodDisruptionBudget")).toHaveLength(1);
    const so = r.objects("ScaledObject")[0]!;
    expect(so.spec.triggers.map((t: any) => t.metadata.query)).toEqual([
      'sum(rate(retrieval_gateway_requests_total{namespace="retrieval"}[1m]))',
      'sum(retrieval_gateway_in_flight_requests{namespace="retrieval"})',
    ]);
    expect(r.objects("ServiceMonitor")[0]!.spec.endpoints[0]).toMatchObject({ port: "metrics", path: "/metrics" });
    const redis = r.objects("Deployment").find((d) => d.metadata.name === "retrieval-gateway-redis")!;
    expect(redis.spec.template.spec.containers[0].image).toBe(REDIS_IMAGE);
    const cfg = RuntimeConfigSchema.parse(
      JSON.parse(r.objects("ConfigMap").find((c) => c.metadata.name === GATEWAY_SERVICE)!.data["config.json"]),
    );
    expect(cfg.redis.url).toBe("redis://retrieval-gateway-redis.retrieval.svc.cluster.local:6379");
    expect(cfg.playground).toBe(false);
    expect(cfg.allowAnonymous).toBe(false);
    // The route table names every model of the stack, at its Service, in its engine's dialect.
    const prod = parseStack("prod");
    expect(cfg.models.map((m) => m.name)).toEqual(prod.models.map((m) => m.name));
    expect(cfg.models[0]!.upstreams).toEqual([`http://${prod.models[0]!.name}.retrieval.svc.cluster.local`]);
  });

  it("local: one replica, limits in memory (no Redis), playground on, no PDB; HPA without monitoring", async () => {
    const r = await render("local", null, false);
    expect(r.objects("Deployment").map((d) => d.metadata.name)).toEqual([GATEWAY_SERVICE]);
    expect(r.objects("PodDisruptionBudget")).toHaveLength(0);
    expect(r.objects("HorizontalPodAutoscaler")).toHaveLength(1);
    const cfg = JSON.parse(r.objects("ConfigMap")[0]!.data["config.json"]);
    expect(cfg.redis.url).toBeUndefined();
    expect(cfg.playground).toBe(true);
  });

  it("keys reach the cluster only as SHA-256 hashes, in a Secret", async () => {
    const r = await render("staging", ["secret-key-0123456789abcdef"]);
    const secret = r.resources.find((x) => x.type === "kubernetes:core/v1:Secret")!;
    expect(JSON.stringify(secret.inputs)).not.toContain("secret-key-0123456789abcdef");
    expect(hashedKeys(["secret-key-0123456789abcdef"])[0]!.sha256[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(r.objects("ConfigMap"))).not.toContain("secret-key");
  });

  it("a cloud stack without keys or JWT is refused", async () => {
    await expect(render("prod", null)).rejects.toThrow(/needs API keys or JWT/);
  });

  it("the ingress sends /v1/*, /rerank and /v2/rerank to the gateway without its key check", () => {
    const config = parseStack("prod");
    const spec = virtualServerSpec({
      host: "h.example.com",
      routes: routeTable(config.models, config.ingress),
      gateway: gatewayRoute({ name: GATEWAY_SERVICE, port: 80 }, config.ingress),
      tlsSecretName: "tls",
      forceHttps: true,
      auth: true,
      maxBodySize: "32m",
      timeoutSeconds: 60,
    }) as { routes: any[]; upstreams: any[] };
    const gw = spec.routes.filter((x) => x.action?.proxy?.upstream === "gateway");
    expect(gw.map((x) => x.path)).toEqual(["/v1/", "/playground", "=/rerank", "=/v2/rerank"]);
    for (const x of gw) {
      expect(x.policies).toEqual([{ name: "rate-limit-gateway" }]);
      expect(x.action.proxy.requestHeaders).toBeUndefined(); // Authorization reaches the gateway
    }
    expect(spec.upstreams.find((u) => u.name === "gateway")).toMatchObject({ service: GATEWAY_SERVICE, port: 80 });
    // Per-model routes stay, key-checked at the edge.
    expect(spec.routes.find((x) => x.path.startsWith("=/models/")).policies[0]).toEqual({ name: "api-key" });
  });
});
