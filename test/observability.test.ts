import * as fs from "node:fs";
import { BUDGET_ALERTS } from "../components/observability/cost/names";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { ObservabilitySchema, type ModelConfig, type ObservabilityConfig } from "../components/config";
import { secretInputs } from "../components/validation";
import { Observability } from "../components/observability";
import { buildRuleGroups } from "../components/observability/alert-rules";
import { adapterFor } from "../components/serving/engines";
import { ALERT_NAMES } from "../components/observability/alert-catalogue";
import { buildDashboards, queriesOf } from "../components/observability/dashboards";
import { knownMetricNames, metricNamesIn } from "../components/observability/metric-catalogue";
import { KUBE_PROMETHEUS_STACK } from "../components/observability/helm-values";
import { MONITORING_NAMESPACE } from "../components/k8s/namespaces";
import { renderResources } from "./harness";
import { parseStack, problemsOf } from "./config-helpers";

const prod = parseStack("prod");
const local = parseStack("local");
const URLS = {
  wecom: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-WECOM",
  dingtalk: "https://oapi.dingtalk.com/robot/send?access_token=SECRET-DING",
  audit: "https://audit.example.com/SECRET-AUDIT",
};

function render(
  observability: ObservabilityConfig,
  models: readonly ModelConfig[],
  environment: "prod" | "local" = "prod",
  secrets = { grafanaAdminPassword: "SECRET-GRAFANA-PW", alertReceiverUrls: URLS },
) {
  return renderResources(() => {
    const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
    new Observability("observability", {
      provider,
      environment,
      observability,
      models,
      secrets: secretInputs(secrets),
    });
  });
}

describe("Observability component", () => {
  it("installs kube-prometheus-stack pinned, with the stack's retention and volume, selecting monitors and rules in every namespace", async () => {
    const r = await render(prod.observability, prod.models);
    const release = r.inputs("kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack");
    expect(release).toMatchObject({
      chart: "kube-prometheus-stack",
      version: KUBE_PROMETHEUS_STACK.version,
      repositoryOpts: { repo: KUBE_PROMETHEUS_STACK.repo },
      namespace: MONITORING_NAMESPACE,
    });
    expect(release.version).toMatch(/^\d+\.\d+\.\d+$/);
    const spec = release.values.prometheus.prometheusSpec;
    expect(spec.retention).toBe("30d");
    expect(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe("200Gi");
    expect(spec.retentionSize).toBe("170GB");
    for (const k of [
      "serviceMonitorSelectorNilUsesHelmValues",
      "podMonitorSelectorNilUsesHelmValues",
      "ruleSelectorNilUsesHelmValues",
      "probeSelectorNilUsesHelmValues",
      "scrapeConfigSelectorNilUsesHelmValues",
    ])
      expect(spec[k], k).toBe(false);
    expect(release.values["kube-state-metrics"].metricLabelsAllowlist).toEqual([
      "pods=[retrieval-stack.io/model]",
      "nodes=[retrieval-stack.io/node-group,retrieval-stack.io/gpu-class,node.kubernetes.io/instance-type]",
    ]);
  });

  it("local: Prometheus on an emptyDir (no volume claim), short retention", async () => {
    const r = await render(local.observability, local.models, "local", {
      grafanaAdminPassword: "SECRET-GRAFANA-PW",
      alertReceiverUrls: {} as typeof URLS,
    });
    const spec = r.inputs("kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack").values.prometheus
      .prometheusSpec;
    expect(spec.retention).toBe("2d");
    expect(spec.storageSpec).toBeUndefined();
    expect(r.objects("Deployment").filter((d) => d.metadata.name === "chat-bridge")).toHaveLength(0);
  });

  it("Grafana: admin password only from the secret, ClusterIP, no ingress unless asked", async () => {
    const r = await render(prod.observability, prod.models);
    const grafana = r.inputs("kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack").values.grafana;
    expect(grafana.admin).toEqual({
      existingSecret: "grafana-admin",
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    expect(grafana.adminPassword).toBeUndefined();
    expect(grafana.service.type).toBe("ClusterIP");
    expect(grafana.ingress.enabled).toBe(false);
    const secret = r.objects("Secret").find((s) => s.metadata.name === "grafana-admin")!;
    expect(secret.stringData["admin-password"]).toBe("[secret]");

    const exposed = await render(
      ObservabilitySchema.parse({ ...prod.observability, grafana: { exposeViaIngress: true } }),
      prod.models,
    );
    expect(
      exposed.inputs("kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack").values.grafana.ingress,
    ).toMatchObject({ enabled: true, ingressClassName: "nginx", path: "/grafana" });
  });

  it("keeps every receiver URL and the Grafana password out of plain text; Alertmanager reads its config from a Secret", async () => {
    const r = await render(prod.observability, prod.models);
    const plain = JSON.stringify(r.resources.map((x) => ({ type: x.type, inputs: r.inputs(x.type, x.name) })));
    for (const s of ["SECRET-WECOM", "SECRET-DING", "SECRET-AUDIT", "SECRET-GRAFANA-PW"])
      expect(plain, s).not.toContain(s);
    const am = r.objects("Secret").find((s) => s.metadata.name === "alertmanager-retrieval-stack")!;
    expect(am.stringData["alertmanager.yaml"]).toBe("[secret]");
    const values = r.inputs("kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack").values.alertmanager
      .alertmanagerSpec;
    expect(values).toMatchObject({ useExistingSecret: true, configSecret: "alertmanager-retrieval-stack" });
    const targets = r.objects("Secret").find((s) => s.metadata.name === "chat-bridge-targets")!;
    expect(targets.stringData["targets.json"]).toBe("[secret]");
  });

  it("runs the chat bridge for WeCom/DingTalk receivers: pinned image, non-root, read-only, 2 replicas in prod", async () => {
    const r = await render(prod.observability, prod.models);
    const d = r.objects("Deployment").find((x) => x.metadata.name === "chat-bridge")!;
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toMatch(/^node:\d+\.\d+\.\d+-alpine\d/);
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  it("one PrometheusRule with a group per model and the GPU group", async () => {
    const r = await render(prod.observability, prod.models);
    const rule = r.objects("PrometheusRule")[0]!;
    expect(rule.metadata.namespace).toBe(MONITORING_NAMESPACE);
    expect(rule.spec.groups.map((g: { name: string }) => g.name)).toEqual([
      ...prod.models.map((m) => `retrieval-stack.model.${m.name}`),
      "retrieval-stack.gpu",
    ]);
  });

  it("fails before creating anything when the Grafana password or a receiver URL secret is missing", async () => {
    await expect(
      render(prod.observability, prod.models, "prod", {
        grafanaAdminPassword: undefined as unknown as string,
        alertReceiverUrls: URLS,
      }),
    ).rejects.toThrow(/grafanaAdminPassword.*pulumi config set --secret/);
    await expect(
      render(prod.observability, prod.models, "prod", {
        grafanaAdminPassword: "SECRET-GRAFANA-PW",
        alertReceiverUrls: undefined as unknown as typeof URLS,
      }),
    ).rejects.toThrow(/alertReceiverUrls/);
  });

  it("creates nothing when observability is disabled", async () => {
    const r = await render(ObservabilitySchema.parse({ enabled: false }), prod.models);
    expect(r.ofType("kubernetes:helm.sh/v3:Release")).toHaveLength(0);
    expect(r.objects()).toHaveLength(0);
  });
});

describe("dashboards", () => {
  const dashboards = buildDashboards(prod.models, "retrieval");
  const allowed = knownMetricNames();

  it("one per engine in use, a GPU dashboard, one per model; provisioned through sidecar ConfigMaps", async () => {
    expect(dashboards.map((d) => d.uid)).toEqual([
      "rs-engine-kserve",
      "rs-engine-sglang",
      "rs-engine-vllm",
      "rs-gpu",
      "rs-model-bge-large-zh",
      "rs-model-gte-base",
      "rs-model-qwen3-reranker",
    ]);
    const r = await render(prod.observability, prod.models);
    const cms = r.objects("ConfigMap").filter((c) => c.metadata.labels?.grafana_dashboard === "1");
    expect(cms.map((c) => c.metadata.name).sort()).toEqual(dashboards.map((d) => `dashboard-${d.uid}`).sort());
    for (const cm of cms)
      expect(JSON.parse(Object.values(cm.data as Record<string, string>)[0]!).uid).toBe(
        cm.metadata.name.replace(/^dashboard-/, ""),
      );
  });

  it("every panel query uses only metric names the adapters declare or known exporters export", () => {
    for (const d of dashboards)
      for (const q of queriesOf(d))
        for (const name of metricNamesIn(q)) expect(allowed.has(name), `${d.uid}: "${name}" in ${q}`).toBe(true);
  });

  it("the allow-list check catches an unknown metric name", () => {
    expect(
      metricNamesIn('sum(rate(vllm:gpu_cache_usage_perc{model="$model"}[$__rate_interval]))').filter(
        (n) => !allowed.has(n),
      ),
    ).toEqual(["vllm:gpu_cache_usage_perc"]);
  });

  it("no KV-cache or time-to-first-token panels for embedding and rerank models", () => {
    for (const d of dashboards) {
      const text = JSON.stringify(d.panels);
      expect(text, d.uid).not.toMatch(/kv_cache|cache_usage|time_to_first_token|ttft/i);
    }
  });

  it("engine dashboards show QPS, latency, error ratio, queue, in flight and replicas vs autoscaler", () => {
    const vllm = dashboards.find((d) => d.uid === "rs-engine-vllm")!;
    const titles = (vllm.panels ?? []).map((p) => p.title);
    expect(titles).toEqual([
      "Requests per second",
      expect.stringMatching(/^Latency/),
      "Error ratio",
      "Queue depth (waiting requests)",
      "In flight (running requests)",
      "Replicas vs autoscaler",
    ]);
    expect(vllm.templating?.list?.find((v) => v.name === "model")?.query).toBe("qwen3-reranker");
  });

  it("the GPU dashboard covers utilisation, memory used/total, temperature, power and Xid, per node group", () => {
    const gpu = dashboards.find((d) => d.uid === "rs-gpu")!;
    const exprs = queriesOf(gpu).join("\n");
    for (const m of [
      "DCGM_FI_DEV_GPU_UTIL",
      "DCGM_FI_DEV_FB_USED",
      "DCGM_FI_DEV_FB_FREE",
      "DCGM_FI_DEV_GPU_TEMP",
      "DCGM_FI_DEV_POWER_USAGE",
      "DCGM_FI_DEV_XID_ERRORS",
    ])
      expect(exprs).toContain(m);
    expect(exprs).toContain("label_retrieval_stack_io_node_group");
  });

  it("the GPU dashboard names nodes from the `node` label only (never dcgm-exporter's Hostname/hostname)", () => {
    const gpu = dashboards.find((d) => d.uid === "rs-gpu")!;
    expect(JSON.stringify(gpu)).not.toMatch(/hostname/i);
    for (const q of queriesOf(gpu)) expect(q).toContain("on(node)");
    const legends = (gpu.panels ?? [])
      .flatMap((p) => ("targets" in p ? (p.targets ?? []) : []))
      .map((t) => (t as { legendFormat?: string }).legendFormat ?? "");
    expect(legends.filter((l) => !l.startsWith("{{label_")).every((l) => l.includes("{{node}}"))).toBe(true);
  });

  it("a model's overview draws its own SLO as the latency threshold", () => {
    const qwen = dashboards.find((d) => d.uid === "rs-model-qwen3-reranker")!;
    const p99 = (qwen.panels ?? []).find((p) => p.title === "Latency p99 vs SLO") as {
      fieldConfig: { defaults: { thresholds: { steps: { value: number | null }[] } } };
    };
    expect(p99.fieldConfig.defaults.thresholds.steps.at(-1)!.value).toBe(2);
  });
});

describe("runbooks", () => {
  it("docs/runbooks.md has a section for every alert, at the anchor its runbook_url names", () => {
    const md = fs.readFileSync(path.join(__dirname, "..", "docs", "runbooks.md"), "utf8");
    const headings = [...md.matchAll(/^## (\S+)$/gm)].map((m) => m[1]);
    // The alert catalogue's, and the budget alerts of the cost rules (components/observability/cost).
    expect(headings.sort()).toEqual([...ALERT_NAMES, ...Object.values(BUDGET_ALERTS)].sort());
    const base = "https://git.example.com/acme/retrieval-stack/blob/main/docs/runbooks.md";
    for (const g of buildRuleGroups({
      models: prod.models,
      thresholds: prod.observability.alerts,
      runbookBaseUrl: base,
    }))
      for (const r of g.rules) expect(r.annotations.runbook_url).toBe(`${base}#${r.alert.toLowerCase()}`);
    // Links inside the runbooks point at existing sections.
    for (const [, anchor] of md.matchAll(/\]\(#([a-z0-9-]+)\)/g))
      expect(
        headings.map((h) => h!.toLowerCase()),
        anchor,
      ).toContain(anchor);
  });
});

describe("Observability with the quality canary", () => {
  it("adds the canary's alerts to every model's group and a quality row to every model dashboard", async () => {
    const r = await renderResources(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
      new Observability("observability", {
        provider,
        environment: "prod",
        observability: prod.observability,
        models: prod.models,
        secrets: secretInputs({ grafanaAdminPassword: "SECRET-GRAFANA-PW", alertReceiverUrls: URLS }),
        canary: { enabled: true },
      });
    });
    const rule = r.objects("PrometheusRule")[0]!;
    for (const m of prod.models) {
      const g = rule.spec.groups.find((x: { name: string }) => x.name === `retrieval-stack.model.${m.name}`);
      const names = g.rules.map((x: { alert: string }) => x.alert);
      expect(names).toEqual(expect.arrayContaining(["ModelQualityLow", "CanaryCheckFailing", "CanaryStale"]));
    }
    const dashboards = r
      .objects("ConfigMap")
      .filter((c) => c.metadata.name?.startsWith("dashboard-rs-model-"))
      .map((c) => JSON.parse(Object.values(c.data as Record<string, string>)[0]!));
    expect(dashboards).toHaveLength(prod.models.length);
    const allowed = knownMetricNames();
    for (const d of dashboards) {
      const row = d.panels.find((p: { type: string }) => p.type === "row");
      expect(row.title).toBe("Quality (canary)");
      const mrr = d.panels.find((p: { title: string }) => p.title === "MRR@10 (canary)");
      expect(mrr.gridPos.y).toBeGreaterThan(row.gridPos.y);
      expect(mrr.fieldConfig.defaults.thresholds.steps.at(-1).value).toBe(0.75);
      for (const q of queriesOf(d)) for (const n of metricNamesIn(q)) expect(allowed.has(n), n).toBe(true);
    }
  });
});

describe("runbook URLs are absolute, from config", () => {
  const rulesWith = (runbookBaseUrl: string | undefined) =>
    buildRuleGroups({ models: prod.models, thresholds: prod.observability.alerts, runbookBaseUrl }).flatMap(
      (g) => g.rules,
    );

  it("refuses a relative path, a non-http(s) scheme and Go template braces in observability.runbookBaseUrl", () => {
    for (const bad of ["docs/runbooks.md", "ftp://x.example/runbooks.md", "https://x.example/{{ .Foo }}/r.md"]) {
      const r = ObservabilitySchema.safeParse({ runbookBaseUrl: bad });
      expect(r.success, bad).toBe(false);
      expect(r.error!.issues[0]!.path, bad).toEqual(["runbookBaseUrl"]);
    }
    expect(ObservabilitySchema.parse({ runbookBaseUrl: "https://x.example/docs/runbooks.md" }).runbookBaseUrl).toBe(
      "https://x.example/docs/runbooks.md",
    );
  });

  it("prod refuses to deploy without it (path, value, fix); dev and staging may leave it unset", () => {
    const problems = problemsOf("prod", (r) => delete r.observability.runbookBaseUrl);
    const p = problems.find((x) => x.path === "retrieval-stack:observability.runbookBaseUrl");
    expect(p?.message).toMatch(
      /is unset, so the prod alerts would carry no runbook_url\. Fix: set it to the absolute URL/,
    );
    for (const stack of ["dev", "staging"])
      expect(
        parseStack(stack, (r) => delete r.observability.runbookBaseUrl).observability.runbookBaseUrl,
      ).toBeUndefined();
    // With observability off there are no alerts to link.
    expect(() =>
      parseStack("prod", (r) => {
        delete r.observability.runbookBaseUrl;
        r.observability.enabled = false;
      }),
    ).not.toThrow();
  });

  it("unset: no alert carries a runbook_url, and plan.md's line says how to set it", () => {
    for (const r of rulesWith(undefined)) expect(r.annotations, r.alert).not.toHaveProperty("runbook_url");
  });

  it("replaces the base's own fragment with the alert's anchor", () => {
    const urls = rulesWith("https://x.example/r.md#top").map((r) => r.annotations.runbook_url);
    expect(urls).toContain("https://x.example/r.md#modelservicedown");
    expect(urls.every((u) => !u!.includes("#top"))).toBe(true);
  });
});

describe("observability config rules", () => {
  it("refuses a receiver that only takes info alerts (none exist), naming the field and the fix", async () => {
    const { problemsOf } = await import("./config-helpers");
    const problems = problemsOf("prod", (raw) => {
      raw.observability.receivers[2].severities = ["info"];
    });
    expect(problems).toEqual([
      expect.objectContaining({
        path: "retrieval-stack:observability.receivers[2].severities",
        message: expect.stringMatching(/never get a message.*Fix: add "critical"/),
      }),
    ]);
  });

  it("GpuMemoryPressure watches only GPUs of engines that allocate as they go: none in prod (vLLM, SGLang, KServe's vLLM backend reserve their share up front), the TEI model's when one is added", () => {
    const rulesOf = (models: readonly ModelConfig[]) =>
      buildRuleGroups({ models, thresholds: prod.observability.alerts }).flatMap((g) => g.rules);
    expect(prod.models.filter((m) => m.gpu).length).toBeGreaterThan(0);
    expect(rulesOf(prod.models).filter((r) => r.alert === "GpuMemoryPressure")).toEqual([]);
    const tei = { ...prod.models[0]!, name: "tei-gpu", engine: "tei" as const };
    const rules = rulesOf([...prod.models, tei]).filter((r) => r.alert === "GpuMemoryPressure");
    expect(rules).toHaveLength(1);
    expect(rules[0]!.labels.models).toBe("tei-gpu");
    expect(rules[0]!.expr).toMatch(/=~"tei-gpu"/);
  });

  it("each adapter says whether it reserves GPU memory up front, from the flag it passes", () => {
    const gpuModel = (engine: string, engineOptions?: Record<string, unknown>) =>
      ({ ...prod.models[0]!, engine, engineOptions }) as ModelConfig;
    const reserves = (engine: string, options?: Record<string, unknown>) =>
      adapterFor(engine as ModelConfig["engine"]).gpuMemoryReservation?.(gpuModel(engine, options));
    expect(reserves("vllm")).toMatch(/--gpu-memory-utilization 0\.9/);
    expect(reserves("sglang")).toMatch(/--mem-fraction-static 0\.9/);
    expect(reserves("kserve")).toMatch(/vLLM backend/);
    expect(reserves("kserve", { backend: "huggingface" })).toBeUndefined();
    expect(reserves("tei")).toBeUndefined();
    expect(reserves("xinference")).toBeUndefined();
    expect(reserves("xinference", { modelEngine: "vllm" })).toMatch(/modelEngine vllm/);
  });

  it("a GpuMemoryPressure threshold below a model's memoryFraction is accepted: reserving engines are not watched", () => {
    expect(() =>
      parseStack("prod", (raw) => void (raw.observability.alerts = { gpuMemoryRatio: { value: 0.85 } })),
    ).not.toThrow();
  });
});
