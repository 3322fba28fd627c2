// The gateway, its Redis and the quality canary in a namespace of their own that enforces Pod Security
// "restricted" (docs/gateway.md#namespaces), in every shipped stack rendered by the real program under the offline
// Pulumi runtime (`npm run plan`): what lands where, that every pod there satisfies restricted, and that the
// NetworkPolicies admit exactly the flows that cross the boundary.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { STACKS, errorOf, parseStack } from "./config-helpers";
import { sharedPlan } from "./shared-plans";
import { admits, type NetworkPolicyObject, type PodRef } from "./fixtures/network-policy";
import { restrictedViolations, type PodSpecLike } from "../components/k8s/pod-security";
import {
  INGRESS_CONTROLLER_PODS,
  INGRESS_NAMESPACE,
  MODELS_NAMESPACE,
  PROMETHEUS_PODS,
} from "../components/k8s/namespaces";
import { DEFAULT_EKS_KUBERNETES_VERSION } from "../components/versions";
import {
  GATEWAY_ROUTE_PATHS,
  gatewayRouteObjectName,
  gatewayVirtualServerRoutes,
} from "../components/ingress/nginx-ingress/objects";
import { LOCAL_SCHEMAS } from "../plan/schemas";

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: any };
  spec?: any;
  data?: any;
};

const GW = "retrieval-gateway";
const PSA = "pod-security.kubernetes.io/";

/** Every object of a stack's render (manifests/, without Helm releases). */
async function rendered(stack: string): Promise<Obj[]> {
  const { out, result } = await sharedPlan(stack);
  expect(result.code, result.stderr).toBe(0);
  const dir = path.join(out, "manifests");
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".yaml") && !f.startsWith("helm"))
    .map((f) => YAML.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Obj);
}

/** The pod spec of a workload object, or undefined for objects that run no pod. */
function podSpecOf(o: Obj): PodSpecLike | undefined {
  if (o.kind === "Pod") return o.spec;
  if (o.kind === "CronJob") return o.spec?.jobTemplate?.spec?.template?.spec;
  if (["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"].includes(o.kind))
    return o.spec?.template?.spec;
  return undefined;
}

const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const podOf = (o: Obj): PodRef => ({
  namespace: o.metadata.namespace!,
  labels: o.spec.template.metadata.labels,
  ports: Object.fromEntries(
    (o.spec.template.spec.containers as any[]).flatMap((c) =>
      (c.ports ?? []).filter((p: any) => p.name).map((p: any) => [p.name, p.containerPort]),
    ),
  ),
});

describe.each(STACKS)("%s: the gateway's own namespace", (stack) => {
  const config = parseStack(stack);
  const objs = rendered(stack);

  it("is created with Pod Security restricted enforced, audited and warned, pinned to the cluster's minor version", async () => {
    const ns = find(await objs, "Namespace", GW)!;
    const minor = config.cluster.mode === "eks" ? config.cluster.kubernetesVersion : DEFAULT_EKS_KUBERNETES_VERSION;
    for (const mode of ["enforce", "audit", "warn"]) {
      expect(ns.metadata.labels[`${PSA}${mode}`], mode).toBe("restricted");
      expect(ns.metadata.labels[`${PSA}${mode}-version`], mode).toBe(`v${minor}`);
    }
    // plan.md says so in its Gateway section.
    const { out } = await sharedPlan(stack);
    expect(fs.readFileSync(path.join(out, "plan.md"), "utf8")).toMatch(
      new RegExp(
        `^- Namespace \`${GW}\` \\(the gateway.*\\): Pod Security \\*\\*restricted\\*\\* enforced at v${minor.replace(".", "\\.")};`,
        "m",
      ),
    );
    // The engines' namespace stays privileged (the weight cache is a hostPath).
    expect(find(await objs, "Namespace", MODELS_NAMESPACE)!.metadata.labels[`${PSA}enforce`]).toBe("privileged");
  }, 240_000);

  it("holds the gateway, its counter store and the canary; the models' namespace keeps only the discovery Role", async () => {
    const all = await objs;
    const inGw = (kind: string) =>
      all
        .filter((o) => o.kind === kind && o.metadata.namespace === GW)
        .map((o) => o.metadata.name)
        .sort();
    const deployments = inGw("Deployment");
    expect(deployments).toContain(GW);
    if (config.observability.enabled && config.observability.canary.enabled)
      expect(deployments).toContain("quality-canary");
    // The in-cluster Redis where the stack runs one (cloud stacks use ElastiCache: only its token Secret).
    const cloud = config.cluster.mode === "eks";
    expect(deployments.includes(`${GW}-redis`)).toBe(!cloud);
    expect(inGw("Secret")).toContain(`${GW}-redis-auth`);
    for (const kind of ["Service", "ConfigMap", "NetworkPolicy"]) expect(inGw(kind), kind).toContain(GW);
    expect(inGw("ServiceAccount")).toContain(`${GW}-discovery`);
    expect(inGw("Secret")).toContain(`${GW}-keys`);
    // Nothing of the gateway or the canary in the engines' namespace but the read-only discovery Role + binding.
    const leftover = all
      .filter(
        (o) => o.metadata.namespace === MODELS_NAMESPACE && /^(retrieval-gateway|quality-canary)/.test(o.metadata.name),
      )
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();
    expect(leftover).toEqual([`Role/${GW}-discovery`, `RoleBinding/${GW}-discovery`]);
  }, 240_000);

  it("every pod rendered into it satisfies the restricted profile", async () => {
    const all = await objs;
    const pods = all.filter((o) => o.metadata.namespace === GW && podSpecOf(o));
    expect(pods.length).toBeGreaterThanOrEqual(config.cluster.mode === "eks" ? 1 : 2);
    for (const o of pods) expect(restrictedViolations(podSpecOf(o)!), `${o.kind}/${o.metadata.name}`).toEqual([]);
    // The check can fail: the engines' pods (hostPath weight cache) break restricted.
    const engines = all.filter((o) => o.metadata.namespace === MODELS_NAMESPACE && o.kind === "Deployment");
    expect(engines.length).toBeGreaterThan(0);
    for (const o of engines)
      expect(restrictedViolations(podSpecOf(o)!).join("\n"), o.metadata.name).toMatch(/is of type hostPath/);
  }, 240_000);

  it("discovery: Role and RoleBinding in the models' namespace for the gateway's ServiceAccount in its own", async () => {
    const all = await objs;
    // One read-only Role per namespace the gateway watches: the models' (their pods) and, with the ingress on, the
    // controller's (its pods are the proxies whose X-Forwarded-For is trusted).
    const watched = config.ingress.enabled ? [MODELS_NAMESPACE, INGRESS_NAMESPACE] : [MODELS_NAMESPACE];
    const roles = all.filter((o) => o.kind === "Role" && o.metadata.name === `${GW}-discovery`);
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual([...watched].sort());
    const bindings = all.filter((o) => o.kind === "RoleBinding" && o.metadata.name === `${GW}-discovery`) as any[];
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual([...watched].sort());
    for (const role of roles)
      expect((role as any).rules).toEqual([
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
      ]);
    for (const binding of bindings)
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: `${GW}-discovery`, namespace: GW }]);
    const dep = find(all, "Deployment", GW)!;
    expect(dep.spec.template.spec.serviceAccountName).toBe(`${GW}-discovery`);
    // The route table reaches every engine by its full Service name in the models' namespace.
    const table = JSON.parse(all.find((o) => o.kind === "ConfigMap" && o.metadata.name === GW)!.data["config.json"]);
    for (const m of table.models) {
      expect(m.upstreams, m.name).toEqual([`http://${m.name}.${MODELS_NAMESPACE}.svc.cluster.local`]);
      // ...and reads its EndpointSlices there, where the Role allows it.
      expect(m.discovery, m.name).toMatchObject({ namespace: MODELS_NAMESPACE, service: m.name });
    }
  }, 240_000);

  it("metrics and autoscaling read the gateway's namespace: ServiceMonitor, its ScaledObject, the models' wake trigger", async () => {
    if (!config.observability.enabled) return;
    const all = await objs;
    const sm = all.find((o) => o.kind === "ServiceMonitor" && o.metadata.name === GW)!;
    expect(sm.metadata.namespace).toBe(GW);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: [GW] });
    const so = all.find((o) => o.kind === "ScaledObject" && o.metadata.name === GW)!;
    expect(so.metadata.namespace).toBe(GW);
    for (const t of so.spec.triggers) expect(t.metadata.query).toContain(`namespace="${GW}"`);
    const wake = all
      .filter((o) => o.kind === "ScaledObject" && o.metadata.namespace === MODELS_NAMESPACE)
      .flatMap((o) => o.spec.triggers as any[])
      .filter((t) => String(t.metadata?.query ?? "").includes("retrieval_gateway_waiting_requests"));
    // Scale-to-zero models are woken by the requests the gateway holds for them (one trigger each).
    expect(wake.length).toBe(config.models.filter((m) => m.replicas.min === 0).length);
    for (const t of wake) expect(t.metadata.query).toMatch(new RegExp(`\\{model="[a-z0-9-]+",namespace="${GW}"\\}`));
  }, 240_000);

  it("ingress: the VirtualServer hands the gateway's paths to VirtualServerRoutes in the gateway's namespace", async () => {
    const all = await objs;
    const vs = all.find((o) => o.kind === "VirtualServer")!;
    expect(vs.metadata.namespace).toBe(MODELS_NAMESPACE);
    // No upstream of the VirtualServer points across namespaces (v5.5.4 would not follow its endpoints).
    for (const u of vs.spec.upstreams) expect(u.service, u.name).not.toContain("/");
    const delegated = vs.spec.routes.filter((r: any) => r.route);
    expect(delegated.map((r: any) => [r.path, r.route])).toEqual(
      GATEWAY_ROUTE_PATHS.map((p) => [p, `${GW}/${gatewayRouteObjectName(p)}`]),
    );
    for (const r of delegated) {
      const vsr = all.find(
        (o) => o.kind === "VirtualServerRoute" && `${o.metadata.namespace}/${o.metadata.name}` === r.route,
      )!;
      expect(vsr, r.route).toBeDefined();
      expect(vsr.spec.host).toBe(vs.spec.host);
      expect(vsr.spec.ingressClassName).toBe(vs.spec.ingressClassName);
      expect(vsr.spec.upstreams).toEqual([expect.objectContaining({ service: GW, port: 80 })]);
      expect(vsr.spec.subroutes.map((s: any) => s.path)).toEqual([r.path]);
      for (const s of vsr.spec.subroutes)
        for (const p of s.policies) expect(find(all, "Policy", p.name)?.metadata.namespace, p.name).toBe(GW);
    }
  }, 240_000);

  it("NetworkPolicies admit exactly the flows that cross the boundary", async () => {
    const all = await objs;
    const policies = all.filter((o) => o.kind === "NetworkPolicy") as unknown as NetworkPolicyObject[];
    const gateway = podOf(find(all, "Deployment", GW)!);
    const engine = podOf(all.find((o) => o.kind === "Deployment" && o.metadata.namespace === MODELS_NAMESPACE)!);
    const enginePort = policies.find(
      (p) =>
        p.metadata.namespace === MODELS_NAMESPACE &&
        Object.entries(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => engine.labels[k] === v),
    )!.spec.ingress![0]!.ports![0]!.port as number;
    const controller: PodRef = {
      namespace: INGRESS_CONTROLLER_PODS.namespace,
      labels: INGRESS_CONTROLLER_PODS.podLabels,
    };
    const prometheus: PodRef = { namespace: PROMETHEUS_PODS.namespace, labels: PROMETHEUS_PODS.podLabels };
    const verifier: PodRef = { namespace: MODELS_NAMESPACE, labels: { "retrieval-stack.io/engine-client": "true" } };
    const stranger = (namespace: string): PodRef => ({ namespace, labels: { app: "something-else" } });

    // In: the ingress controller's pods on the API port; Prometheus on the metrics port; our verification Job.
    expect(admits(policies, controller, gateway, 8080)).toBe(true);
    expect(admits(policies, stranger("ingress"), gateway, 8080)).toBe(false);
    expect(admits(policies, prometheus, gateway, 9090)).toBe(true);
    expect(admits(policies, prometheus, gateway, 8080)).toBe(false);
    expect(admits(policies, stranger("monitoring"), gateway, 9090)).toBe(false);
    expect(admits(policies, controller, gateway, 9090)).toBe(false);
    expect(admits(policies, verifier, gateway, 8080)).toBe(true);
    expect(admits(policies, stranger("default"), gateway, 8080)).toBe(false);
    expect(admits(policies, stranger(MODELS_NAMESPACE), gateway, 8080)).toBe(false);
    // Out: the gateway's pods reach the engines; nothing else in the gateway's namespace does.
    expect(admits(policies, gateway, engine, enginePort)).toBe(true);
    expect(admits(policies, stranger(GW), engine, enginePort)).toBe(false);

    const canaryDep = find(all, "Deployment", "quality-canary");
    if (canaryDep) {
      const canary = podOf(canaryDep);
      expect(canary.namespace).toBe(GW);
      expect(admits(policies, canary, gateway, 8080)).toBe(true);
      expect(admits(policies, canary, gateway, 9090)).toBe(false);
      // Through the gateway only: never the engines directly.
      expect(admits(policies, canary, engine, enginePort)).toBe(false);
      expect(
        admits(policies, prometheus, canary, canaryDep.spec.template.spec.containers[0].ports[0].containerPort),
      ).toBe(true);
    }
    const redisDep = find(all, "Deployment", `${GW}-redis`);
    if (redisDep) {
      const redis = podOf(redisDep);
      expect(admits(policies, gateway, redis, 6379)).toBe(true);
      expect(admits(policies, stranger(GW), redis, 6379)).toBe(false);
      if (canaryDep) expect(admits(policies, podOf(canaryDep), redis, 6379)).toBe(false);
      expect(admits(policies, redis, engine, enginePort)).toBe(false);
    }
  }, 240_000);
});

describe("restrictedViolations: the restricted rules it checks", () => {
  const ok: PodSpecLike = {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      { name: "app", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } },
    ],
    volumes: [
      { name: "config", configMap: { name: "x" } },
      { name: "data", persistentVolumeClaim: { claimName: "y" } },
    ],
  };
  const c0 = ok.containers![0]!;
  const withContainer = (sc: object): PodSpecLike => ({
    ...ok,
    containers: [{ ...c0, securityContext: { ...c0.securityContext, ...sc } }],
  });

  it("admits a pod that sets everything restricted asks for", () => {
    expect(restrictedViolations(ok)).toEqual([]);
    expect(restrictedViolations(withContainer({ capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } }))).toEqual(
      [],
    );
  });

  it.each([
    ["no seccomp profile", { ...ok, securityContext: { runAsNonRoot: true } }, /seccompProfile/],
    [
      "Unconfined seccomp",
      { ...ok, securityContext: { ...ok.securityContext, seccompProfile: { type: "Unconfined" } } },
      /Unconfined/,
    ],
    [
      "runAsNonRoot missing",
      { ...ok, securityContext: { seccompProfile: { type: "RuntimeDefault" } } },
      /runAsNonRoot/,
    ],
    ["UID 0", withContainer({ runAsUser: 0 }), /runAsUser is 0/],
    ["privilege escalation unset", withContainer({ allowPrivilegeEscalation: undefined }), /allowPrivilegeEscalation/],
    ["capabilities not dropped", withContainer({ capabilities: {} }), /drop lacks ALL/],
    ["a capability added", withContainer({ capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] } }), /add has NET_ADMIN/],
    ["privileged", withContainer({ privileged: true }), /privileged is true/],
    ["hostPath volume", { ...ok, volumes: [{ name: "cache", hostPath: { path: "/var/cache" } }] }, /type hostPath/],
    ["hostNetwork", { ...ok, hostNetwork: true }, /hostNetwork/],
    ["hostPort", { ...ok, containers: [{ ...c0, ports: [{ containerPort: 80, hostPort: 80 }] }] }, /hostPort/],
  ] as [string, PodSpecLike, RegExp][])("refuses %s", (_name, spec, why) => {
    expect(restrictedViolations(spec).join("\n")).toMatch(why);
  });
});

describe("gateway.namespace", () => {
  it("is a namespace of its own: the models', another component's or a Kubernetes namespace is refused with the fix", () => {
    for (const taken of ["retrieval", "ingress", "monitoring", "kube-system"]) {
      const msg = errorOf("prod", (raw) => {
        raw.gateway = { ...raw.gateway, namespace: taken };
      });
      expect(msg).toContain("gateway.namespace");
      expect(msg).toContain(JSON.stringify(taken));
      expect(msg).toMatch(/Fix: use e\.g\. "retrieval-gateway"/);
    }
    expect(
      errorOf("prod", (raw) => {
        raw.gateway = { ...raw.gateway, namespace: "Gateway_NS" };
      }),
    ).toMatch(/gateway\.namespace.*not a Kubernetes namespace name/s);
    // Any other name is used as given, for every object of the gateway.
    expect(
      parseStack("prod", (raw) => void (raw.gateway = { ...raw.gateway, namespace: "api-front" })).gateway.namespace,
    ).toBe("api-front");
  });
});

describe("VirtualServerRoute schema (plan validation)", () => {
  const schema = LOCAL_SCHEMAS["k8s.nginx.org/v1/VirtualServerRoute"]!;
  const [first] = gatewayVirtualServerRoutes({
    host: "api.example.com",
    gateway: { service: { name: GW, port: 80, namespace: GW }, rateLimit: { requestsPerSecond: 10, burst: 20 } },
    maxBodySize: "32m",
    timeoutSeconds: 60,
  });
  const vsr = (spec: Record<string, unknown>) => ({
    apiVersion: "k8s.nginx.org/v1",
    kind: "VirtualServerRoute",
    metadata: { name: first!.name, namespace: GW },
    spec,
  });

  it("accepts what the driver renders and refuses what the controller would refuse", () => {
    expect(schema.safeParse(vsr(first!.spec)).success).toBe(true);
    const sub = (first!.spec.subroutes as Record<string, unknown>[])[0]!;
    // A subroute may not delegate again, and must name a declared upstream.
    expect(schema.safeParse(vsr({ ...first!.spec, subroutes: [{ ...sub, route: "other/route" }] })).success).toBe(
      false,
    );
    expect(
      schema.safeParse(vsr({ ...first!.spec, subroutes: [{ ...sub, action: { proxy: { upstream: "missing" } } }] }))
        .success,
    ).toBe(false);
    expect(schema.safeParse(vsr({ ...first!.spec, upstreams: [] })).success).toBe(false);
  });
});
