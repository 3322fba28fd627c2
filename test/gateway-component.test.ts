import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Gateway, GATEWAY_SERVICE, REDIS_IMAGE, hashedKeys, planGateway } from "../components/gateway";
import { validateObjects } from "../plan/validate";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import { virtualServerSpec } from "../components/ingress/nginx-ingress/objects";
import { gatewayRoute, routeTable } from "../components/ingress/routes";
import { parseStack } from "./config-helpers";
import { renderResources, type Rendered } from "./harness";

/** The gateway's Kubernetes objects per environment, rendered under the offline Pulumi runtime. */
async function render(
  stack: string,
  keys: string[] | null = ["k".repeat(24)],
  monitoring = true,
  names: readonly string[] = ["gateway"],
  raw?: (r: any) => void,
): Promise<Rendered> {
  const config = parseStack(stack, raw);
  return renderResources(() => {
    const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
    for (const name of names)
      new Gateway(name, {
        provider,
        environment: config.environment,
        gateway: config.gateway,
        models: config.models,
        ...(keys ? { apiKeys: pulumi.secret(keys) } : {}),
        namedKeys: [
          {
            name: "verification",
            key: pulumi.secret("v".repeat(32)),
            internal: true,
            limits: { requestsPerSecond: 400, burst: 200 },
          },
        ],
        monitoring,
        image: "example.com/gateway:1",
      });
  });
}

const deploymentOf = (r: Rendered, name = GATEWAY_SERVICE) =>
  r.resources.find((x) => x.type === "kubernetes:apps/v1:Deployment" && (x.inputs as any).metadata.name === name)!;

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
    expect(r.objects("PodDisruptionBudget").map((p) => p.metadata.name)).toEqual([
      "retrieval-gateway-redis",
      GATEWAY_SERVICE,
    ]);
    const so = r.objects("ScaledObject")[0]!;
    expect(so.spec.triggers.map((t: any) => t.metadata.query)).toEqual([
      'sum(rate(retrieval_gateway_requests_total{namespace="retrieval"}[1m]))',
      'sum(retrieval_gateway_in_flight_requests{namespace="retrieval"})',
    ]);
    expect(r.objects("ServiceMonitor")[0]!.spec.endpoints[0]).toMatchObject({ port: "metrics", path: "/metrics" });
    const redis = r.objects("Deployment").find((d) => d.metadata.name === "retrieval-gateway-redis")!;
    expect(redis.spec.template.spec.containers[0].image).toBe(REDIS_IMAGE);
    // Every rendered object is valid against its schema (core API, KEDA and Prometheus Operator CRDs).
    expect(await validateObjects(r.objects() as any)).toEqual([]);
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

  it("KEDA (or the HPA) owns the replicas: Pulumi sets spec.replicas at creation only", async () => {
    for (const monitoring of [true, false]) {
      const r = await render("prod", undefined, monitoring);
      expect(deploymentOf(r).options.ignoreChanges).toEqual(["spec.replicas"]);
      expect(r.objects(monitoring ? "ScaledObject" : "HorizontalPodAutoscaler")).toHaveLength(1);
    }
    // One replica and nothing that scales it: Pulumi keeps the count.
    const fixed = await render("local", null, false, ["gateway"], (raw) => {
      raw.gateway = { maxReplicas: 1 };
    });
    expect(fixed.objects("HorizontalPodAutoscaler")).toHaveLength(0);
    expect(deploymentOf(fixed).options.ignoreChanges).toBeUndefined();
  });

  it("local: one replica that the HPA may scale, so limits are shared in Redis; playground on, no PDB", async () => {
    const r = await render("local", null, false);
    expect(r.objects("Deployment").map((d) => d.metadata.name)).toEqual(["retrieval-gateway-redis", GATEWAY_SERVICE]);
    expect(r.objects("PodDisruptionBudget").map((p) => p.metadata.name)).toEqual(["retrieval-gateway-redis"]);
    expect(r.objects("HorizontalPodAutoscaler")).toHaveLength(1);
    const cfg = JSON.parse(r.objects("ConfigMap")[0]!.data["config.json"]);
    expect(cfg.redis.url).toBe("redis://retrieval-gateway-redis.retrieval.svc.cluster.local:6379");
    expect(cfg.redis.onDown).toBe("fail-open");
    expect(cfg.playground).toBe(true);
    // A gateway that can never run a second replica keeps its limits in memory.
    const single = await render("local", null, false, ["gateway"], (raw) => {
      raw.gateway = { maxReplicas: 1 };
    });
    expect(single.objects("Deployment").map((d) => d.metadata.name)).toEqual([GATEWAY_SERVICE]);
    expect(JSON.parse(single.objects("ConfigMap")[0]!.data["config.json"]).redis.url).toBeUndefined();
  });

  it("the counter store: redis-server run directly, password from a Secret, append-only file on a volume, PDB, gateway-only access", async () => {
    const r = await render("prod");
    const redis = r.objects("Deployment").find((d) => d.metadata.name === "retrieval-gateway-redis")!;
    const c = redis.spec.template.spec.containers[0];
    // Not the image's entrypoint (it loads every bundled module): the server binary itself.
    expect(c.command).toEqual(["/usr/local/bin/redis-server"]);
    const args: string[] = c.args;
    expect(args[0]).toBe("/etc/redis-auth/auth.conf");
    expect(args.join(" ")).toContain("--appendonly yes --appendfsync everysec");
    expect(args.join(" ")).not.toContain("requirepass"); // the password is on no command line
    expect(redis.spec.template.spec.volumes).toEqual([
      { name: "data", persistentVolumeClaim: { claimName: "retrieval-gateway-redis" } },
      { name: "auth", secret: { secretName: "retrieval-gateway-redis-auth", defaultMode: 0o440 } },
    ]);
    expect(r.objects("PersistentVolumeClaim")[0]!.spec.accessModes).toEqual(["ReadWriteOnce"]);
    expect(r.objects("PodDisruptionBudget").map((p) => p.metadata.name)).toContain("retrieval-gateway-redis");
    const auth = r.resources.find((x) => x.type === "kubernetes:core/v1:Secret" && x.name === "gateway-redis-auth")!;
    expect(JSON.stringify(r.inputs("kubernetes:core/v1:Secret", "gateway-redis-auth"))).toContain("[secret]");
    expect(auth).toBeDefined();
    // The gateway gets the password from that Secret, into the URL by Kubernetes' $(VAR) expansion.
    const env = r.objects("Deployment").find((d) => d.metadata.name === GATEWAY_SERVICE)!.spec.template.spec
      .containers[0].env;
    expect(env).toContainEqual({
      name: "STORE_PASSWORD",
      valueFrom: { secretKeyRef: { name: "retrieval-gateway-redis-auth", key: "password" } },
    });
    expect(env).toContainEqual({
      name: "REDIS_URL",
      value: "redis://:$(STORE_PASSWORD)@retrieval-gateway-redis.retrieval.svc.cluster.local:6379",
    });
    const np = r.objects("NetworkPolicy").find((n) => n.metadata.name === "retrieval-gateway-redis")!;
    expect(np.spec.ingress[0].from).toEqual([
      {
        podSelector: {
          matchLabels: { "app.kubernetes.io/name": GATEWAY_SERVICE, "app.kubernetes.io/component": "gateway" },
        },
      },
    ]);
  });

  it("two Gateways in one stack do not collide: every name derives from the component's name", async () => {
    const r = await render("prod", undefined, true, ["gateway", "gateway-b"]);
    const names = r.objects().map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("Deployment/retrieval/retrieval-gateway-b-redis");
    expect(names).toContain("Service/retrieval/retrieval-gateway-b");
    const urns = r.resources.map((x) => x.urn);
    expect(new Set(urns).size).toBe(urns.length);
  });

  it("EndpointSlice discovery: a read-only Role in the models' namespace, bound to the gateway's ServiceAccount", async () => {
    const r = await render("prod");
    const role = r.objects("Role")[0]!;
    expect(role.metadata.namespace).toBe("retrieval");
    expect(role.rules).toEqual([
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    ]);
    const binding = r.objects("RoleBinding")[0]!;
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "retrieval-gateway-discovery", namespace: "retrieval" },
    ]);
    const pod = r.objects("Deployment").find((d) => d.metadata.name === GATEWAY_SERVICE)!.spec.template.spec;
    expect(pod.serviceAccountName).toBe("retrieval-gateway-discovery");
    const cfg = JSON.parse(
      r.objects("ConfigMap").find((c) => c.metadata.name === GATEWAY_SERVICE)!.data["config.json"],
    );
    expect(cfg.models[0].discovery).toEqual({ namespace: "retrieval", service: cfg.models[0].name, portName: "http" });
  });

  it("keys live in the Secret only: a new key changes neither the ConfigMap nor the pods' config hash", () => {
    const config = parseStack("prod");
    const plan = (keys: Record<string, { sha256: string[] }>) =>
      planGateway({
        name: "gateway",
        environment: config.environment,
        gateway: { ...config.gateway, keys },
        models: config.models,
        namespace: "retrieval",
        modelsNamespace: "retrieval",
        monitoring: true,
        secretKeys: true,
        image: "x:1",
      });
    const a = plan({ ci: { sha256: ["a".repeat(64)] } });
    const b = plan({ ci: { sha256: ["a".repeat(64)] }, team: { sha256: ["b".repeat(64)] } });
    expect(a.configHash).toBe(b.configHash);
    expect(a.runtimeConfig.keys).toEqual([]);
    expect(hashedKeys([], [], { ci: { sha256: ["a".repeat(64)] } })).toEqual([
      { name: "ci", sha256: ["a".repeat(64)] },
    ]);
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

describe("the limit store of a cloud stack", () => {
  it("ElastiCache Valkey: Multi-AZ automatic failover, TLS required, AUTH token secret, private subnets, nodes' SG only", async () => {
    const { LimitStore, LIMIT_STORE } = await import("../components/cluster/limit-store");
    const config = parseStack("prod");
    const r = await renderResources(() => {
      const store = new LimitStore("gateway-limits", {
        vpcId: "vpc-1",
        privateSubnetIds: ["subnet-a", "subnet-b"],
        nodeSecurityGroupId: "sg-nodes",
        authToken: pulumi.secret("t".repeat(64)),
      });
      new Gateway("gateway", {
        provider: new k8s.Provider("k8s", { kubeconfig: "offline" }),
        environment: config.environment,
        gateway: config.gateway,
        models: config.models,
        apiKeys: pulumi.secret(["k".repeat(24)]),
        monitoring: true,
        image: "example.com/gateway:1",
        managedStore: { host: store.host, port: store.port, authToken: pulumi.secret("t".repeat(64)) },
      });
    });
    const rg = r.inputs("aws:elasticache/replicationGroup:ReplicationGroup", "gateway-limits-valkey");
    expect(rg).toMatchObject({
      engine: "valkey",
      engineVersion: LIMIT_STORE.engineVersion,
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      authToken: "[secret]",
    });
    expect(r.inputs("aws:elasticache/subnetGroup:SubnetGroup", "gateway-limits-subnets").subnetIds).toEqual([
      "subnet-a",
      "subnet-b",
    ]);
    const sg = r.inputs("aws:ec2/securityGroup:SecurityGroup", "gateway-limits-sg");
    expect(sg.ingress).toHaveLength(1);
    expect(sg.ingress[0]).toMatchObject({
      fromPort: 6379,
      toPort: 6379,
      protocol: "tcp",
      securityGroups: ["sg-nodes"],
    });
    expect(sg.ingress[0].cidrBlocks).toBeUndefined();
    // No Redis pod in the cluster; the gateway reaches the managed store over TLS with the token from a Secret.
    expect(r.objects("Deployment").map((d) => d.metadata.name)).toEqual([GATEWAY_SERVICE]);
    const env = r.objects("Deployment")[0]!.spec.template.spec.containers[0].env;
    expect(env.find((e: any) => e.name === "REDIS_URL").value).toMatch(/^rediss:\/\/:\$\(STORE_PASSWORD\)@/);
    expect(env).toContainEqual({
      name: "STORE_PASSWORD",
      valueFrom: { secretKeyRef: { name: "retrieval-gateway-redis-auth", key: "password" } },
    });
  });
});

describe("waking a model", () => {
  it("the gateway's waiting count is a trigger of a scale-to-zero model's ScaledObject, valid against KEDA's CRD schema", async () => {
    const { ModelService } = await import("../components/serving/model-service");
    const { gatewayWaitingQuery } = await import("../components/gateway");
    const config = parseStack("local");
    const model = { ...config.models.find((m) => !m.gpu)!, replicas: { min: 0, max: 2 } };
    const r = await renderResources(() => {
      new ModelService(model.name, {
        provider: new k8s.Provider("k8s", { kubeconfig: "offline" }),
        environment: config.environment,
        model,
        demandQuery: gatewayWaitingQuery(model.name),
      });
    });
    const so = r.objects("ScaledObject")[0]!;
    expect(so.spec.minReplicaCount).toBe(0);
    const demand = so.spec.triggers.find((t: any) => t.name === "demand");
    expect(demand.metadata.query).toBe(`sum(retrieval_gateway_waiting_requests{model="${model.name}"}) or vector(0)`);
    expect(demand.metadata.activationThreshold).toBe("0");
    // @kubernetes-models/keda (the pinned chart's CRD schema) accepts it.
    expect(await validateObjects([so as any])).toEqual([]);
  });
});
