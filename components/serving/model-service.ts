import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { Environment, GpuNodeGroupConfig, ModelConfig } from "../config";
import { profileOf } from "../config/environments";
import { specOf } from "../validation/rules/models";
import { lookupInstanceType } from "../cluster/instances";
import { childOptions, standardLabels } from "../k8s/meta";
import {
  ENGINE_CLIENT_LABEL,
  INGRESS_NAMESPACE,
  MODELS_NAMESPACE,
  MONITORING_NAMESPACE,
  NAMESPACE_NAME_LABEL,
} from "../k8s/namespaces";
import { adapterFor } from "./engines";
import type { EngineWorkload, ModelContext } from "./engines/types";
import { MODEL_METRIC_LABEL, MODEL_POD_LABEL, modelSelector } from "./metric-labels";
import { HF_TOKEN_SECRET_KEY, planPod, type PodPlan } from "./pod";
import { planScaling, scaledObjectSpec, type ScalingPlan } from "./autoscaling";

/** Every model's Service listens on port 80 ("http") and forwards to the engine's own port. */
export const MODEL_SERVICE_PORT = 80;
/** How often Prometheus scrapes the engines. */
export const SCRAPE_INTERVAL = "15s";

export interface ModelServiceArgs {
  readonly provider: k8s.Provider;
  readonly environment: Environment;
  readonly namespace: pulumi.Input<string>;
  readonly model: ModelConfig;
  /** The node group named by model.gpu.nodeGroup (undefined for CPU models). */
  readonly gpuNodeGroup?: GpuNodeGroupConfig;
  readonly hfToken?: pulumi.Output<string>;
  /** Create ServiceMonitor/ScaledObject objects (their CRDs must exist: Prometheus Operator and KEDA). */
  readonly monitoring: boolean;
  /**
   * PromQL for this model's demand seen outside the engine (e.g. a gateway's request rate): wakes a
   * scale-to-zero model (replicas.min 0) from zero whenever it is above 0. Scaling to zero needs this or
   * model.autoscaling.activeHours: with no pod, the engine exports nothing that could wake the model.
   */
  readonly demandQuery?: string;
}

/** The adapter's view of one model: catalogue facts and the GPU it gets. */
export function modelContext(args: Pick<ModelServiceArgs, "model" | "environment" | "gpuNodeGroup">): ModelContext {
  const spec = specOf(args.model);
  if (!spec)
    throw new Error(
      `model ${args.model.model} is neither in the catalogue nor has a "spec" (config validation should have refused it)`,
    );
  const instance = args.gpuNodeGroup ? lookupInstanceType(args.gpuNodeGroup.instanceTypes[0] ?? "") : undefined;
  const gpu = args.model.gpu && instance ? { instance, count: args.model.gpu.count } : undefined;
  if (args.model.gpu && !gpu)
    throw new Error(
      `model ${args.model.name}: GPU node group "${args.model.gpu.nodeGroup}" is missing or has an unknown instance type`,
    );
  return { model: args.model, spec, environment: args.environment, gpu };
}

/**
 * One model, one engine, one task, with production defaults: Deployment (or KServe InferenceService), Service,
 * NetworkPolicy, PodDisruptionBudget, HF-token Secret, engine-file ConfigMap, ServiceMonitor and KEDA
 * ScaledObject. All engine knowledge comes from the adapter (components/serving/engines/<engine>.ts).
 */
export class ModelService extends pulumi.ComponentResource {
  /** In-cluster base URL of the engine, e.g. http://bge.retrieval.svc.cluster.local (port 80). */
  readonly url: pulumi.Output<string>;
  readonly modelName: string;
  /** What was planned, for summaries and tests. */
  readonly workload: EngineWorkload;
  readonly pod: PodPlan;
  readonly scaling: ScalingPlan;

  constructor(name: string, args: ModelServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:serving:ModelService", name, {}, opts);
    const { model, provider, namespace } = args;
    const adapter = adapterFor(model.engine);
    const ctx = modelContext(args);
    const problems = adapter.validate(ctx);
    if (problems.length)
      throw new Error(`model ${model.name}: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`);
    const workload = adapter.workload(ctx);
    const profile = profileOf(args.environment);
    const o = (extra?: pulumi.CustomResourceOptions) => childOptions(this, provider, extra);

    this.modelName = model.name;
    this.workload = workload;
    const labels = standardLabels(model.name, "model-server", {
      [MODEL_POD_LABEL]: model.name,
      "retrieval-stack.io/engine": model.engine,
      "retrieval-stack.io/task": model.task,
    });
    // Selector labels: stable across engine changes (a selector is immutable on a Deployment).
    const selector = { "app.kubernetes.io/name": model.name, [MODEL_POD_LABEL]: model.name };
    const meta = (suffix = "") => ({ name: `${model.name}${suffix}`, namespace, labels });

    const hfSecret = args.hfToken
      ? new k8s.core.v1.Secret(
          `${name}-hf-token`,
          { metadata: meta("-hf-token"), type: "Opaque", stringData: { [HF_TOKEN_SECRET_KEY]: args.hfToken } },
          o(),
        )
      : undefined;
    const files = workload.files
      ? new k8s.core.v1.ConfigMap(`${name}-files`, { metadata: meta("-files"), data: { ...workload.files } }, o())
      : undefined;

    const pod = planPod({
      ctx,
      workload,
      nodeGroup: model.gpu?.nodeGroup,
      hfTokenSecretName: hfSecret ? `${model.name}-hf-token` : undefined,
      filesConfigMapName: files ? `${model.name}-files` : undefined,
      podLabels: selector,
      metricsPort: adapter.metrics.port,
      // HA environments (>= 2 replicas required) refuse to stack replicas in one zone or on one node.
      strictSpread: profile.minReplicasFloor >= 2,
    });
    this.pod = pod;
    // Config validation refuses these (rules/models.ts); library callers get the same verdict here.
    if (model.replicas.min === 0 && !args.monitoring)
      throw new Error(
        `model ${model.name}: replicas.min 0 needs KEDA (monitoring: true) to scale to zero and back. Fix: set replicas.min: 1, or enable monitoring.`,
      );
    if (model.replicas.min === 0 && !model.autoscaling.activeHours && args.demandQuery === undefined)
      throw new Error(
        `model ${model.name}: replicas.min 0 with nothing to bring the model back (with no pod the engine exports no metric). Fix: set autoscaling.activeHours, pass demandQuery, or set replicas.min: 1.`,
      );
    this.scaling = planScaling({
      model,
      metrics: adapter.metrics,
      selector: modelSelector(model.name, namespaceName(namespace)),
      coldStartSeconds: pod.startupBudgetSeconds,
      demandQuery: args.demandQuery,
    });

    const autoscaled = args.monitoring;
    const initialReplicas = Math.max(1, model.replicas.min);
    const strategy =
      profile.rollout === "Recreate"
        ? { type: "Recreate" }
        : // A new pod must be ready before an old one goes (maxUnavailable 0); one extra GPU at a time (maxSurge 1).
          { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };
    const dependsOn = [hfSecret, files].filter((r): r is NonNullable<typeof r> => r !== undefined);
    // KEDA owns the replica count once it runs: Pulumi sets it at creation only.
    const replicaOpts = autoscaled
      ? { ignoreChanges: ["spec.replicas", "spec.predictor.minReplicas"], dependsOn }
      : { dependsOn };

    let deploymentName = model.name;
    if (workload.kind === "InferenceService") {
      const isvc = workload.inferenceService!;
      deploymentName = isvc.deploymentName;
      const { containers, ...podRest } = pod.spec;
      const [engine, ...sidecars] = containers as k8s.types.input.core.v1.Container[];
      const { name: _ignored, image, ...modelContainer } = engine!;
      void _ignored;
      new k8s.apiextensions.CustomResource(
        `${name}-isvc`,
        {
          apiVersion: "serving.kserve.io/v1beta1",
          kind: "InferenceService",
          metadata: { ...meta(), annotations: { ...isvc.annotations } },
          spec: {
            predictor: {
              minReplicas: initialReplicas,
              maxReplicas: Math.max(initialReplicas, model.replicas.max),
              labels,
              deploymentStrategy: strategy,
              ...podRest,
              ...(sidecars.length ? { containers: sidecars } : {}),
              model: {
                modelFormat: { name: isvc.modelFormat },
                ...(isvc.runtime ? { runtime: isvc.runtime } : {}),
                ...(isvc.protocolVersion ? { protocolVersion: isvc.protocolVersion } : {}),
                // The runtime's image, pinned here instead of the ServingRuntime's moving default.
                image,
                ...modelContainer,
              },
            },
          },
        },
        o(replicaOpts),
      );
    } else {
      new k8s.apps.v1.Deployment(
        `${name}-deployment`,
        {
          metadata: meta(),
          spec: {
            replicas: initialReplicas,
            selector: { matchLabels: selector },
            strategy,
            // A pod counts as available only after staying ready for a few probe periods.
            minReadySeconds: 10,
            progressDeadlineSeconds: pod.startupBudgetSeconds + 300,
            revisionHistoryLimit: 5,
            template: { metadata: { labels }, spec: pod.spec },
          },
        },
        o(replicaOpts),
      );
    }

    const metricsPortName = adapter.metrics.port === workload.port ? "http" : "metrics";
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta(),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [
            { name: "http", port: MODEL_SERVICE_PORT, targetPort: workload.port, protocol: "TCP" },
            ...(metricsPortName === "metrics"
              ? [{ name: "metrics", port: adapter.metrics.port, targetPort: adapter.metrics.port, protocol: "TCP" }]
              : []),
          ],
        },
      },
      o(),
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta(),
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress"],
          ingress: [
            // The ingress controller / gateway, and in-namespace clients labelled as such (verification Job).
            {
              from: [
                { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: INGRESS_NAMESPACE } } },
                { podSelector: { matchLabels: { [ENGINE_CLIENT_LABEL]: "true" } } },
              ],
              ports: [{ protocol: "TCP", port: workload.port }],
            },
            // Prometheus scrapes the metrics port.
            {
              from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: MONITORING_NAMESPACE } } }],
              ports: [{ protocol: "TCP", port: adapter.metrics.port }],
            },
          ],
        },
      },
      o(),
    );

    if (model.replicas.min >= 2) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        { metadata: meta(), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
        o(),
      );
    }

    if (args.monitoring) {
      new k8s.apiextensions.CustomResource(
        `${name}-servicemonitor`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "ServiceMonitor",
          metadata: meta(),
          spec: {
            selector: { matchLabels: { ...selector } },
            namespaceSelector: { matchNames: [namespace] },
            endpoints: [
              {
                port: metricsPortName,
                path: adapter.metrics.path,
                interval: SCRAPE_INTERVAL,
                // Every series gets model="<name>", whatever label the engine uses (see metric-labels.ts).
                relabelings: [
                  {
                    sourceLabels: [`__meta_kubernetes_pod_label_${MODEL_POD_LABEL.replace(/[^A-Za-z0-9_]/g, "_")}`],
                    targetLabel: MODEL_METRIC_LABEL,
                    action: "replace",
                  },
                ],
              },
            ],
          },
        },
        o(),
      );
      new k8s.apiextensions.CustomResource(
        `${name}-scaledobject`,
        {
          apiVersion: "keda.sh/v1alpha1",
          kind: "ScaledObject",
          metadata: meta(),
          spec: scaledObjectSpec(this.scaling, deploymentName),
        },
        o(),
      );
    }

    this.url = pulumi.interpolate`http://${model.name}.${namespace}.svc.cluster.local`;
    this.registerOutputs({ url: this.url });
  }
}

/** The namespace as a plain string for PromQL selectors (an Output is taken to be the shared MODELS_NAMESPACE). */
function namespaceName(namespace: pulumi.Input<string>): string {
  return typeof namespace === "string" ? namespace : MODELS_NAMESPACE;
}
