import { describe, expect, it } from "vitest";
import { adapterFor } from "../components/serving/engines";
import { MODEL_SERVICE_PORT as SERVING_PORT } from "../components/serving/model-service";
import { MODEL_SERVICE_PORT } from "../components/ingress/service-port";
import { validateObjects, type K8sObject } from "../plan/validate";
import { LOCAL_SCHEMAS } from "../plan/schemas";
import { EVERY_ENGINE, HELM, KEYS, PROD_INGRESS, renderIngress } from "./fixtures/ingress";
import { controllerReplicaRate } from "../components/ingress/nginx-ingress/objects";

const vsOf = (r: Awaited<ReturnType<typeof renderIngress>>["rendered"]) => r.objects("VirtualServer")[0]!;
const policy = (r: Awaited<ReturnType<typeof renderIngress>>["rendered"], name: string) =>
  r.objects("Policy").find((p) => p.metadata.name === name)!;

describe("controller release", () => {
  it("installs F5 NGINX Ingress Controller from its pinned chart behind an internet-facing NLB limited to the allowed CIDRs", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const rel = rendered.inputs(HELM, "ingress-controller");
    expect(rel.chart).toBe("nginx-ingress");
    expect(rel.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(rel.repositoryOpts.repo).toBe("https://helm.nginx.com/stable");
    expect(rel.namespace).toBe("ingress");
    const c = rel.values.controller;
    expect(c.enableSnippets).toBe(false);
    expect(c.enableCustomResources).toBe(true);
    expect(c.telemetryReporting.enable).toBe(false);
    expect(c.replicaCount).toBe(2);
    expect(c.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    expect(c.service.type).toBe("LoadBalancer");
    expect(c.service.annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"]).toBe("internet-facing");
    expect(c.service.annotations["service.beta.kubernetes.io/aws-load-balancer-type"]).toBe("external");
    expect(c.service.loadBalancerSourceRanges).toEqual(["10.0.0.0/8", "203.0.113.0/24"]);
    expect(c.config.entries["client-max-body-size"]).toBe("32m");
    expect(c.config.entries["proxy-read-timeout"]).toBe("300s");
    // Long reranks finish before a terminating controller pod goes away.
    expect(c.terminationGracePeriodSeconds).toBeGreaterThan(300);
  });

  it("NLB IP targets: the controller's namespace gets the AWS Load Balancer Controller's readiness-gate label and rolls out with maxUnavailable 0; a local NodePort needs no label", async () => {
    for (const environment of ["prod", "staging"] as const) {
      const { rendered } = await renderIngress({ environment, ingress: PROD_INGRESS });
      const ns = rendered.objects("Namespace").find((n) => n.metadata.name === "ingress")!;
      expect(ns.metadata.labels?.["elbv2.k8s.aws/pod-readiness-gate-inject"], environment).toBe("enabled");
      const c = rendered.inputs(HELM, "ingress-controller").values.controller;
      expect(c.service.annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"]).toBe("ip");
      expect(c.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    }
    const local = await renderIngress({ environment: "local", ingress: { tls: { mode: "none" } } });
    const ns = local.rendered.objects("Namespace").find((n) => n.metadata.name === "ingress")!;
    expect(ns.metadata.labels?.["elbv2.k8s.aws/pod-readiness-gate-inject"]).toBeUndefined();
  });

  it("keeps the NLB internal when exposure is internal, and uses a NodePort with one replica locally", async () => {
    const internal = await renderIngress({
      environment: "staging",
      ingress: { ...PROD_INGRESS, exposure: "internal" },
    });
    expect(
      internal.rendered.inputs(HELM, "ingress-controller").values.controller.service.annotations[
        "service.beta.kubernetes.io/aws-load-balancer-scheme"
      ],
    ).toBe("internal");
    const local = await renderIngress({ environment: "local", ingress: { tls: { mode: "none" } } });
    const c = local.rendered.inputs(HELM, "ingress-controller").values.controller;
    expect(c.service.type).toBe("NodePort");
    expect(c.service.annotations).toEqual({});
    expect(c.replicaCount).toBe(1);
  });

  it("takes body size and timeouts from the config, per model route too", async () => {
    const { rendered } = await renderIngress({
      environment: "prod",
      ingress: { ...PROD_INGRESS, maxBodySize: "64m", timeoutSeconds: 900 },
    });
    const entries = rendered.inputs(HELM, "ingress-controller").values.controller.config.entries;
    expect(entries["client-max-body-size"]).toBe("64m");
    expect(entries["proxy-read-timeout"]).toBe("900s");
    for (const u of vsOf(rendered).spec.upstreams) {
      // TEI refuses bodies over its own 2 MB (--payload-limit default): its routes stop them at the edge.
      const tei = EVERY_ENGINE.find((m) => m.name === u.name)!.engine === "tei";
      expect(u["client-max-body-size"], u.name).toBe(tei ? "2000000" : "64m");
      expect(u["read-timeout"]).toBe("900s");
    }
  });

  it("a route's 413 names the limit that applies to it (TEI's 2 MB, not the ingress's 32m)", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    for (const r of vsOf(rendered).spec.routes.filter((x: any) => x.path !== "/")) {
      const model = r.action.proxy.upstream;
      const page = r.errorPages.find((e: any) => e.codes.includes(413));
      const tei = EVERY_ENGINE.find((m) => m.name === model)!.engine === "tei";
      expect(page.return.body, model).toContain(tei ? "larger than 2000000 bytes" : "larger than 32m");
    }
  });

  it("replays a failed embed/rerank POST once on another replica, but not one that used up the read timeout", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    for (const u of vsOf(rendered).spec.upstreams)
      expect(u).toMatchObject({
        // Without non_idempotent NGINX never passes a POST that reached an engine on to the next one.
        "next-upstream": "error timeout non_idempotent",
        "next-upstream-tries": 2,
        "next-upstream-timeout": u["read-timeout"],
      });
  });
});

describe("routes", () => {
  it("gives every model one exact route rewritten to its engine's own path, for every engine dialect", async () => {
    const { rendered, component } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const vs = vsOf(rendered);
    expect(vs.metadata.namespace).toBe("retrieval");
    for (const m of EVERY_ENGINE) {
      const dialect = adapterFor(m.engine).dialect;
      const enginePath = (m.task === "embed" ? dialect.embed : dialect.rerank)!.path(m.name);
      const publicPath = `/models/${m.name}/v1/${m.task === "embed" ? "embeddings" : "rerank"}`;
      const route = vs.spec.routes.find((r: any) => r.path === `=${publicPath}`);
      expect(route, publicPath).toBeDefined();
      expect(route.action.proxy.rewritePath).toBe(enginePath);
      const upstream = vs.spec.upstreams.find((u: any) => u.name === route.action.proxy.upstream);
      expect(upstream).toMatchObject({ service: m.name, port: MODEL_SERVICE_PORT });
    }
    expect(vs.spec.routes).toHaveLength(EVERY_ENGINE.length + 1);
    // Known engine facts (docs/engines.md): KServe's OpenAI routes live under /openai, vLLM reranks at /v1/rerank.
    expect(vs.spec.routes.find((r: any) => r.path === "=/models/gte-base/v1/embeddings").action.proxy.rewritePath).toBe(
      "/openai/v1/embeddings",
    );
    expect(
      vs.spec.routes.find((r: any) => r.path === "=/models/qwen3-reranker/v1/rerank").action.proxy.rewritePath,
    ).toBe("/v1/rerank");
    const urls = await Promise.all(
      EVERY_ENGINE.map((m) => new Promise<string>((res) => component().urls[m.name]!.apply(res))),
    );
    expect(urls[0]).toBe("https://retrieval.example.com/models/bge-large-zh/v1/embeddings");
  });

  it("routes to the port the engines' Services expose", () => {
    expect(MODEL_SERVICE_PORT).toBe(SERVING_PORT);
  });

  it("publishes nothing but the model endpoints: health and metrics paths fall through to a JSON 404", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const routes = vsOf(rendered).spec.routes as any[];
    for (const r of routes) expect(r.path).not.toMatch(/health|metrics|ready|info/);
    const catchAll = routes.find((r) => r.path === "/");
    expect(catchAll.action.return.code).toBe(404);
    expect(catchAll.action.proxy).toBeUndefined();
    expect(routes.filter((r) => r.path !== "/").every((r) => r.path.startsWith("=/models/"))).toBe(true);
  });
});

describe("API keys", () => {
  it("requires a Bearer key on every model route, kept in an nginx.org/apikey Secret only as a secret", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const p = policy(rendered, "api-key");
    expect(p.spec.apiKey).toEqual({ suppliedIn: { header: ["Authorization"] }, clientSecret: "retrieval-api-keys" });
    const secret = rendered.objects("Secret").find((s) => s.metadata.name === "retrieval-api-keys")!;
    expect(secret.type).toBe("nginx.org/apikey");
    expect(secret.metadata.namespace).toBe("retrieval");
    expect(secret.stringData).toEqual({ "client-1": "[secret]", "client-2": "[secret]" });
    // The raw inputs hold the keys only inside Pulumi's secret wrapper, as the full header value.
    const raw = JSON.stringify(rendered.get("kubernetes:core/v1:Secret", "ingress-api-keys").inputs);
    expect(raw).toContain("1b47061264138c4ac30d75fd1eb44270");
    expect(raw).toContain(`Bearer ${KEYS[0]}`);
    for (const r of vsOf(rendered).spec.routes.filter((x: any) => x.path !== "/")) {
      expect(r.policies).toContainEqual({ name: "api-key" });
      // Wrong and missing keys both answer 401 with a JSON body; the key is not forwarded to the engine.
      const page = r.errorPages.find((e: any) => e.codes.includes(403));
      expect(page.codes).toEqual([401, 403]);
      expect(page.return.code).toBe(401);
      expect(r.action.proxy.requestHeaders.set).toContainEqual({ name: "Authorization", value: "" });
    }
  });

  it("refuses a cloud stack without keys, and runs a local stack without keys limited per client address", async () => {
    await expect(renderIngress({ environment: "dev", ingress: PROD_INGRESS, keys: null })).rejects.toThrow(
      /needs API keys/,
    );
    const { rendered } = await renderIngress({ environment: "local", ingress: { tls: { mode: "none" } }, keys: null });
    expect(rendered.objects("Policy").map((p) => p.metadata.name)).not.toContain("api-key");
    expect(rendered.objects("Secret")).toHaveLength(0);
    expect(policy(rendered, "rate-limit-bge-small-zh").spec.rateLimit.key).toBe("${binary_remote_addr}");
  });
});

describe("rate limits", () => {
  it("limits each API key per model, with per-model overrides, a clear 429 and fractional rates per minute", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const def = policy(rendered, "rate-limit-bge-large-zh").spec.rateLimit;
    // Two controller replicas: the controller halves the rate (scale), the burst is halved here.
    expect(def).toMatchObject({
      rate: "100r/s",
      scale: true,
      burst: 100,
      key: "${http_authorization}",
      rejectCode: 429,
      noDelay: true,
    });
    expect(policy(rendered, "rate-limit-qwen3-reranker").spec.rateLimit).toMatchObject({ rate: "20r/s", burst: 20 });
    const slow = policy(rendered, "rate-limit-bge-reranker-m3").spec.rateLimit;
    expect(slow.rate).toBe("30r/m");
    expect(slow.burst).toBeUndefined();
    for (const r of vsOf(rendered).spec.routes.filter((x: any) => x.path !== "/")) {
      const model = r.action.proxy.upstream;
      expect(r.policies).toContainEqual({ name: `rate-limit-${model}` });
      const page = r.errorPages.find((e: any) => e.codes.includes(429));
      expect(page.return.code).toBe(429);
      expect(page.return.headers).toContainEqual({ name: "Retry-After", value: "1" });
      expect(page.return.body).toContain(model);
    }
  });
});

describe("rate limits are per key across all controller replicas", () => {
  it("every Policy has scale: true and a rate whose per-replica shares add up to the configured one", async () => {
    for (const replicas of [1, 2, 3]) {
      const { rendered } = await renderIngress({
        environment: "prod",
        ingress: { ...PROD_INGRESS, controllerReplicas: replicas, rateLimit: { requestsPerSecond: 7, burst: 5 } },
      });
      const rl = policy(rendered, "rate-limit-bge-large-zh").spec.rateLimit;
      expect(rl.scale).toBe(true);
      const share = controllerReplicaRate(rl.rate, replicas);
      const perSecond = (r: string) => Number(r.split("r/")[0]) / (r.endsWith("r/s") ? 1 : 60);
      expect(perSecond(share) * replicas, `${replicas} replicas: ${rl.rate} -> ${share}`).toBeCloseTo(7, 6);
      expect(rl.burst).toBe(Math.ceil(5 / replicas));
    }
  });

  it("models the controller's division (integer shares, per minute below 1 r/s)", () => {
    expect(controllerReplicaRate("100r/s", 2)).toBe("50r/s");
    expect(controllerReplicaRate("7r/s", 2)).toBe("3r/s");
    expect(controllerReplicaRate("1r/s", 2)).toBe("30r/m");
    expect(controllerReplicaRate("420r/m", 2)).toBe("210r/m");
    expect(controllerReplicaRate("30r/m", 1)).toBe("30r/m");
  });
});

describe("TLS", () => {
  it("ACME: pinned cert-manager, a ClusterIssuer answering HTTP-01 through the controller, a Certificate for the host, HTTPS redirect in prod", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const cm = rendered.inputs(HELM, "ingress-cert-manager");
    expect(cm.chart).toBe("cert-manager");
    expect(cm.version).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(cm.repositoryOpts.repo).toBe("https://charts.jetstack.io");
    expect(cm.values.crds.enabled).toBe(true);
    const issuer = rendered.objects("ClusterIssuer")[0]!;
    expect(issuer.spec.acme.email).toBe("platform@example.com");
    expect(issuer.spec.acme.server).toBe("https://acme-v02.api.letsencrypt.org/directory");
    expect(issuer.spec.acme.solvers[0].http01.ingress.ingressClassName).toBe(
      rendered.inputs(HELM, "ingress-controller").values.controller.ingressClass.name,
    );
    const cert = rendered.objects("Certificate")[0]!;
    expect(cert.spec.dnsNames).toEqual(["retrieval.example.com"]);
    expect(cert.metadata.namespace).toBe("retrieval");
    expect(cert.spec.issuerRef).toMatchObject({ kind: "ClusterIssuer", name: issuer.metadata.name });
    const tls = vsOf(rendered).spec.tls;
    expect(tls.secret).toBe(cert.spec.secretName);
    expect(tls.redirect).toEqual({ enable: true, code: 308, basedOn: "scheme" });
    expect(rendered.inputs(HELM, "ingress-controller").values.controller.enableCertManager).toBe(true);
  });

  it("dev serves TLS without forcing the redirect; privateCa uses a CA issuer; a user secret needs no cert-manager; none is plain HTTP", async () => {
    const dev = await renderIngress({ environment: "dev", ingress: PROD_INGRESS });
    expect(vsOf(dev.rendered).spec.tls.redirect).toBeUndefined();

    const ca = await renderIngress({
      environment: "staging",
      ingress: { ...PROD_INGRESS, tls: { mode: "privateCa", caSecretName: "corp-ca" } },
    });
    expect(ca.rendered.objects("ClusterIssuer")[0]!.spec).toEqual({ ca: { secretName: "corp-ca" } });

    const own = await renderIngress({
      environment: "prod",
      ingress: { ...PROD_INGRESS, tls: { mode: "secret", secretName: "my-cert" } },
    });
    expect(vsOf(own.rendered).spec.tls.secret).toBe("my-cert");
    expect(own.rendered.ofType(HELM).map((h) => (h.inputs as { chart?: string }).chart)).not.toContain("cert-manager");
    expect(own.rendered.objects("Certificate")).toHaveLength(0);

    const local = await renderIngress({ environment: "local", ingress: { tls: { mode: "none" } } });
    expect(vsOf(local.rendered).spec.tls).toBeUndefined();
    expect(vsOf(local.rendered).spec.host).toBe("localhost");
  });

  it("refuses plain HTTP outside local", async () => {
    await expect(
      renderIngress({ environment: "prod", ingress: { ...PROD_INGRESS, tls: { mode: "none" } } }),
    ).rejects.toThrow(/plain HTTP/);
  });
});

describe("metrics", () => {
  it("scrapes the controller's exporter with a ServiceMonitor whose Service selects the controller pods", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const values = rendered.inputs(HELM, "ingress-controller").values;
    expect(values.prometheus.create).toBe(true);
    expect(values.controller.enableLatencyMetrics).toBe(true);
    const sm = rendered.objects("ServiceMonitor")[0]!;
    const svc = rendered.objects("Service").find((s) => s.metadata.name === "nginx-ingress-metrics")!;
    expect(sm.metadata.namespace).toBe("ingress");
    expect(sm.spec.selector.matchLabels).toEqual(svc.metadata.labels);
    expect(svc.spec.selector).toEqual(values.controller.selectorLabels);
    const port = svc.spec.ports.find((p: any) => p.name === sm.spec.endpoints[0].port);
    expect(port.targetPort).toBe(values.prometheus.port);
  });

  it("creates no ServiceMonitor when monitoring is off", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS, monitoring: false });
    expect(rendered.objects("ServiceMonitor")).toHaveLength(0);
  });
});

describe("schemas", () => {
  it.each([
    ["prod", PROD_INGRESS],
    ["staging", { ...PROD_INGRESS, tls: { mode: "privateCa", caSecretName: "corp-ca" } }],
    ["dev", { ...PROD_INGRESS, tls: { mode: "secret", secretName: "my-cert" } }],
    ["local", { tls: { mode: "none" } }],
  ] as const)("every object rendered for %s passes its schema", async (environment, ingress) => {
    const { rendered } = await renderIngress({ environment, ingress });
    const objects = rendered.objects() as K8sObject[];
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(["VirtualServer", "Policy", "Namespace"]));
    expect(await validateObjects(objects)).toEqual([]);
  });

  it("the VirtualServer and Policy schemas reject what the controller would reject", () => {
    const vs = LOCAL_SCHEMAS["k8s.nginx.org/v1/VirtualServer"]!;
    const base = {
      apiVersion: "k8s.nginx.org/v1",
      kind: "VirtualServer",
      metadata: { name: "x" },
      spec: {
        host: "a.example.com",
        upstreams: [{ name: "m", service: "m", port: 80 }],
        routes: [{ path: "/", action: { pass: "m" } }],
      },
    };
    expect(vs.safeParse(base).success).toBe(true);
    expect(
      vs.safeParse({ ...base, spec: { ...base.spec, routes: [{ path: "/", action: { pass: "nope" } }] } }).success,
    ).toBe(false);
    expect(
      vs.safeParse({ ...base, spec: { ...base.spec, routes: [...base.spec.routes, ...base.spec.routes] } }).success,
    ).toBe(false);
    expect(
      vs.safeParse({
        ...base,
        spec: { ...base.spec, upstreams: [{ name: "m", service: "m", port: 80, "read-timout": "5s" }] },
      }).success,
    ).toBe(false);
    const pol = LOCAL_SCHEMAS["k8s.nginx.org/v1/Policy"]!;
    const rl = {
      apiVersion: "k8s.nginx.org/v1",
      kind: "Policy",
      metadata: { name: "r" },
      spec: { rateLimit: { rate: "10r/s", key: "${http_authorization}", zoneSize: "10m" } },
    };
    expect(pol.safeParse(rl).success).toBe(true);
    expect(pol.safeParse({ ...rl, spec: { rateLimit: { ...rl.spec.rateLimit, rate: "0r/s" } } }).success).toBe(false);
    // $jwt_claim_* keys are NGINX Plus only.
    expect(
      pol.safeParse({ ...rl, spec: { rateLimit: { ...rl.spec.rateLimit, key: "${jwt_claim_sub}" } } }).success,
    ).toBe(false);
  });
});
