import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { beforeAll, describe, expect, it } from "vitest";
import { IngressSchema } from "../components/config";
import { EnginesSchema } from "../components/config/engines";
import { EnginePrerequisites, plannedPrerequisites } from "../components/serving/engine-prerequisites";
import { KSERVE_DEFAULT_VERSION, KSERVE_RUNTIME_NAME } from "../components/serving/engines/kserve";
import { helmChartsArePinned } from "../policy/rules/images";
import { runPlan, type PlanResult } from "../plan/run";
import type { RecordedResource } from "../plan/offline";
import { renderResources, type Rendered } from "./harness";
import { SHIPPED_MODELS, parseModel, type ModelInput } from "./fixtures/serving";
import { waitsFor as waitsForIn } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const RUNTIME = "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime";
const chartOf = (r: RecordedResource) => String((r.inputs as { chart?: string }).chart);
const kserveReleases = (rs: readonly RecordedResource[]) =>
  rs.filter((r) => r.type === RELEASE && chartOf(r).startsWith("oci://ghcr.io/kserve/"));

describe("prod (the whole program): KServe is installed for gte-base, before its InferenceService", () => {
  let result: PlanResult;
  let recorded: readonly RecordedResource[];
  let byUrn: Map<string, RecordedResource>;

  beforeAll(async () => {
    result = await runPlan({ stack: "prod", outDir: fs.mkdtempSync(path.join(os.tmpdir(), "rs-prereq-")) });
    expect(result.errors).toEqual([]);
    recorded = result.recorded!;
    byUrn = new Map(recorded.map((r) => [r.urn, r]));
  });

  const waitsFor = (r: RecordedResource) => waitsForIn(recorded, r);
  const release = (chart: string) => {
    const r = recorded.find((x) => x.type === RELEASE && chartOf(x) === chart);
    if (!r)
      throw new Error(
        `no release of ${chart}; have ${recorded
          .filter((x) => x.type === RELEASE)
          .map(chartOf)
          .join(", ")}`,
      );
    return r;
  };
  const crd = () => release("oci://ghcr.io/kserve/charts/kserve-crd");
  const controller = () => release("oci://ghcr.io/kserve/charts/kserve-resources");
  const runtime = () => recorded.find((r) => r.type === RUNTIME)!;
  const isvc = () => recorded.find((r) => r.type === "kubernetes:serving.kserve.io/v1beta1:InferenceService")!;

  it("renders KServe's CRD and controller charts from ghcr.io at the huggingfaceserver image's release, pinned", () => {
    expect(kserveReleases(recorded).map((r) => [chartOf(r), (r.inputs as { version: string }).version])).toEqual([
      ["oci://ghcr.io/kserve/charts/kserve-crd", "v0.20.0"],
      ["oci://ghcr.io/kserve/charts/kserve-resources", "v0.20.0"],
    ]);
    // The adapter's image and the charts move together.
    expect((isvc().inputs as any).spec.predictor.model.image).toBe(
      `kserve/huggingfaceserver:${KSERVE_DEFAULT_VERSION}-gpu`,
    );
    // An OCI chart carries its registry in `chart`: no repository for Helm to look the chart up in.
    for (const r of kserveReleases(recorded))
      expect((r.inputs as { repositoryOpts?: unknown }).repositoryOpts).toBeUndefined();
    // The policy the plan runs sees an exact version on both.
    const policyView = (r: RecordedResource) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs });
    for (const r of kserveReleases(recorded))
      expect(helmChartsArePinned.validate(policyView(r), {} as never)).toEqual([]);
    expect(
      helmChartsArePinned.validate(
        policyView({ ...controller(), inputs: { ...controller().inputs, version: "^0.21" } }),
        {} as never,
      ),
    ).toHaveLength(1);
  });

  it("runs the controller in Standard (raw Deployment) mode without Knative, Istio or its own Ingress objects", () => {
    const values = (controller().inputs as any).values.kserve;
    expect(values.controller.deploymentMode).toBe("Standard");
    expect(values.controller.gateway.disableIngressCreation).toBe(true);
    expect(values.controller.gateway.ingressGateway.enableGatewayApi).toBe(false);
    expect((controller().inputs as { namespace: string }).namespace).toBe("kserve");
  });

  it("leaves gte-base's 4-CPU request without a 1-CPU limit (no webhook default, no runtime limit)", () => {
    const model = (isvc().inputs as any).spec.predictor.model;
    expect(Number(model.resources.requests.cpu)).toBeGreaterThan(1);
    expect(model.resources.limits.cpu).toBeUndefined();
    const defaults = (controller().inputs as any).values.kserve.inferenceservice.resources;
    expect([defaults.limits.cpu, defaults.limits.memory, defaults.requests.cpu, defaults.requests.memory]).toEqual([
      "",
      "",
      "",
      "",
    ]);
    const container = (runtime().inputs as any).spec.containers[0];
    expect(container.resources).toBeUndefined();
  });

  it("the InferenceService resolves to our runtime: it names none, ours auto-selects its format above KServe's priority 1", () => {
    const model = (isvc().inputs as any).spec.predictor.model;
    expect(model.runtime).toBeUndefined();
    expect((runtime().inputs as any).metadata.name).toBe(KSERVE_RUNTIME_NAME);
    const formats = (runtime().inputs as any).spec.supportedModelFormats;
    expect(formats).toContainEqual(expect.objectContaining({ name: model.modelFormat.name, autoSelect: true }));
    expect(formats.find((f: { name: string }) => f.name === model.modelFormat.name).priority).toBeGreaterThan(1);
    expect((runtime().inputs as any).spec.protocolVersions).toContain(model.protocolVersion);
  });

  it("installs in order: CRDs, then the controller, then the runtime, then the InferenceService", () => {
    expect(waitsFor(controller()).has(crd().urn)).toBe(true);
    expect(waitsFor(runtime()).has(controller().urn)).toBe(true);
    const isvcWaits = waitsFor(isvc());
    for (const r of [crd(), controller(), runtime()]) expect(isvcWaits.has(r.urn), r.name).toBe(true);
    // and nothing of KServe waits for a model
    expect(waitsFor(crd()).has(isvc().urn)).toBe(false);
  });

  it("installs cert-manager exactly once (the ingress's, for ACME), and KServe's webhooks wait for it", () => {
    const certManagers = recorded.filter((r) => r.type === RELEASE && chartOf(r) === "cert-manager");
    expect(certManagers).toHaveLength(1);
    expect(byUrn.get(certManagers[0]!.parentUrn!)?.type).toBe("retrieval-stack:ingress:Ingress");
    expect(waitsFor(controller()).has(certManagers[0]!.urn)).toBe(true);
  });
});

// The component alone: what it installs for a given set of models and settings.
const ingressWith = (input: unknown) => IngressSchema.parse(input);
async function renderPrerequisites(
  models: ModelInput[],
  o: { install?: boolean; ingress?: unknown } = {},
): Promise<{ r: Rendered; component: EnginePrerequisites }> {
  let component!: EnginePrerequisites;
  const r = await renderResources(() => {
    const provider = new k8s.Provider("k8s", {});
    // Stands for the Ingress component; depending on a component means depending on its children.
    const ingressComponent = new pulumi.ComponentResource("test:ingress:Ingress", "ingress", {});
    new k8s.core.v1.ConfigMap(
      "ingress-child",
      { metadata: { name: "ingress-child" } },
      { parent: ingressComponent, provider },
    );
    component = new EnginePrerequisites("engine-prerequisites", {
      provider,
      environment: "prod",
      models: models.map(parseModel),
      engines: EnginesSchema.parse(o.install === undefined ? {} : { installPrerequisites: o.install }),
      monitoring: false,
      ingress: {
        config: ingressWith(o.ingress ?? { host: "api.example.com", tls: { mode: "acme", email: "ops@example.com" } }),
        component: ingressComponent,
      },
    });
  });
  return { r, component };
}
const installedBy = (r: Rendered) =>
  r.resources.filter((x) => x.custom && x.type !== "pulumi:providers:kubernetes" && x.name !== "ingress-child");

describe("EnginePrerequisites installs only what the stack's engines need", () => {
  it("a stack without a KServe model (the local TEI models, prod's SGLang and vLLM) installs nothing", async () => {
    const { r, component } = await renderPrerequisites([
      SHIPPED_MODELS.bgeSmallZhCpu,
      SHIPPED_MODELS.bgeRerankerBaseCpu,
      SHIPPED_MODELS.qwen3Reranker,
      SHIPPED_MODELS.bgeLargeZh,
    ]);
    expect(installedBy(r)).toEqual([]);
    expect(component.planned).toEqual([]);
    expect(component.installsCertManager).toBe(false);
  });

  it("installPrerequisites: false installs nothing, even for a KServe model", async () => {
    const { r } = await renderPrerequisites([SHIPPED_MODELS.gteBase], { install: false });
    expect(installedBy(r)).toEqual([]);
  });

  it("defaults to installing: the schema's default is true", () => {
    expect(EnginesSchema.parse({}).installPrerequisites).toBe(true);
    expect(
      plannedPrerequisites([parseModel(SHIPPED_MODELS.gteBase)], EnginesSchema.parse({}), "prod").map(
        (p) => p.prerequisite.id,
      ),
    ).toEqual(["kserve-crd", "kserve", KSERVE_RUNTIME_NAME]);
  });

  it("two KServe models share one install of each prerequisite", async () => {
    const { r } = await renderPrerequisites([
      SHIPPED_MODELS.gteBase,
      { ...SHIPPED_MODELS.gteBase, name: "gte-base-2" },
    ]);
    expect(kserveReleases(r.resources).map(chartOf)).toEqual([
      "oci://ghcr.io/kserve/charts/kserve-crd",
      "oci://ghcr.io/kserve/charts/kserve-resources",
    ]);
    expect(r.ofType(RUNTIME)).toHaveLength(1);
    expect(r.ofType("kubernetes:core/v1:Namespace").map((n) => (n.inputs as any).metadata.name)).toEqual(["kserve"]);
  });

  it("installs cert-manager itself when the ingress does not (TLS from a user Secret), once, before the controller", async () => {
    const { r, component } = await renderPrerequisites([SHIPPED_MODELS.gteBase], {
      ingress: { host: "api.example.com", tls: { mode: "secret", secretName: "api-tls" } },
    });
    const certManagers = r.ofType(RELEASE).filter((x) => chartOf(x) === "cert-manager");
    expect(certManagers).toHaveLength(1);
    expect(component.installsCertManager).toBe(true);
    const controller = r.ofType(RELEASE).find((x) => chartOf(x).endsWith("/kserve-resources"))!;
    expect(controller.dependencies).toContain(certManagers[0]!.urn);
  });

  it("waits for the ingress instead when the ingress installs cert-manager (ACME), installing none of its own", async () => {
    const { r, component } = await renderPrerequisites([SHIPPED_MODELS.gteBase]);
    expect(r.ofType(RELEASE).filter((x) => chartOf(x) === "cert-manager")).toEqual([]);
    expect(component.installsCertManager).toBe(false);
    const ingressChild = r.get("kubernetes:core/v1:ConfigMap", "ingress-child").urn;
    expect(r.ofType(RELEASE).find((x) => chartOf(x).endsWith("/kserve-resources"))!.dependencies).toContain(
      ingressChild,
    );
  });
});
