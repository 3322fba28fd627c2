import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { Environment, ModelConfig } from "../config";
import { profileOf } from "../config/environments";
import { standardLabels } from "../k8s/meta";
import { MODELS_NAMESPACE } from "../k8s/namespaces";
import { createServiceMonitor } from "../k8s/service-monitor";
import { adapterFor } from "./engines";
import type { EngineWorkload, ModelContext } from "./engines/types";
import { MODEL_POD_LABEL, modelSelector } from "./metric-labels";
import { HF_TOKEN_SECRET_KEY, planPod, type PodPlan } from "./pod";
import { planScaling, scaledObjectSpec, scaleToZeroGap, type ScalingPlan } from "./autoscaling";
import { argumentsError } from "./arguments";
import { modelProblems, resolveContext, type ArgumentProblem, type GpuPlacement, type ModelInput } from "./context";
import { planNetworkPolicy, type ModelEgress, type ModelPeers } from "./network-policy";
import { planService, planServiceMonitor } from "./service";
import {
  autoscaledIgnoreChanges,
  awaitTimeouts,
  planDeployment,
  planInferenceService,
  type WorkloadInputs,
} from "./workload";

export { MODEL_SERVICE_PORT, SCRAPE_INTERVAL } from "./service";

/**
 * Arguments of a ModelService. Only `environment` and `model` are required; everything else has a default that
 * fits the stack's own components (docs/library.md documents each field).
 */
export interface ModelServiceArgs extends GpuPlacement {
  /**
   * Kubernetes provider of the target cluster.
   * @default the provider in `opts`, else Pulumi's default Kubernetes provider
   */
  readonly provider?: k8s.Provider;
  /**
   * `local`, `dev`, `staging` or `prod`: rollout (`Recreate` in local/dev, else RollingUpdate with maxSurge 1,
   * maxUnavailable 0), replica floor and spread strictness (`DoNotSchedule` where the environment needs >= 2
   * replicas; config/environments.ts).
   */
  readonly environment: Environment;
  /**
   * Namespace of every object of the model (it must exist); also in the autoscaler's PromQL and the ServiceMonitor.
   * @default "retrieval" (MODELS_NAMESPACE)
   */
  readonly namespace?: string;
  /** The model as you write it (the input type of `ModelConfigSchema`, table below; defaults are applied here), or an already parsed `ModelConfig`. */
  readonly model: ModelInput | ModelConfig;
  /**
   * Hugging Face token for gated models (keep it secret): stored in a Secret `<name>-hf-token`, read by the engine as `HF_TOKEN`.
   * @default none: no Secret
   */
  readonly hfToken?: pulumi.Input<string>;
  /**
   * Create a ServiceMonitor that scrapes the engine every 15 s and labels every series `model="<name>"` (needs the
   * Prometheus Operator CRDs), as `monitoring` does in every component.
   * @default true
   */
  readonly monitoring?: boolean;
  /**
   * Create a KEDA ScaledObject on the engine's queue depth and in-flight requests (`model.autoscaling`; needs KEDA,
   * reads Prometheus). Without it the Deployment keeps `max(1, replicas.min)` replicas; `replicas.min: 0` needs it.
   * @default true
   */
  readonly autoscaling?: boolean;
  /**
   * Prometheus that KEDA queries for the engine's metrics (the one that scrapes the ServiceMonitor).
   * @default "http://prometheus-operated.monitoring.svc:9090" (PROMETHEUS_URL: the Service the Prometheus Operator creates)
   */
  readonly prometheusUrl?: string;
  /**
   * PromQL for this model's demand seen outside the engine (e.g. a gateway's request rate): wakes a
   * scale-to-zero model (replicas.min 0) from zero whenever it is above 0. Scaling to zero needs this or
   * model.autoscaling.activeHours: with no pod, the engine exports nothing that could wake the model.
   * @default none
   */
  readonly demandQuery?: string;
  /**
   * Labels the GPU nodes carry in your cluster, e.g. { "nvidia.com/gpu.product": "NVIDIA-L4" } (all must match; the
   * pods also tolerate the nvidia.com/gpu=true:NoSchedule taint).
   * @default the labels the stack's Cluster sets: retrieval-stack.io/node-group = model.gpu.nodeGroup and
   * retrieval-stack.io/gpu-class = the instance's GPU class
   */
  readonly gpuNodeLabels?: Readonly<Record<string, string>>;
  /**
   * Who may reach the model, per role (`ingress`, `gateway`, `prometheus`, `clients`), each a list of
   * `{ namespaceLabels?, podLabels? }`; a role given replaces its default (`[]` admits nobody), roles left out keep it.
   * @default DEFAULT_PEERS: NGINX controller pods in `ingress`, `app.kubernetes.io/name=prometheus` pods in `monitoring`,
   * pods labelled `retrieval-stack.io/engine-client=true` in the model's namespace, no gateway
   */
  readonly peers?: ModelPeers;
  /**
   * What the engine may reach: `{ hub?, dns?, extra? }`, each a list of `{ cidr, except?, ports }` (dns: peers).
   * `false` leaves egress unrestricted.
   * @default DNS to CoreDNS and TCP 443 to 0.0.0.0/0 minus private, CGNAT, link-local (IMDS) and loopback ranges
   */
  readonly egress?: ModelEgress;
  /**
   * The longest call a client may be waiting on when a pod is told to stop (seconds): the pods' grace period covers
   * it. The stack passes longestCallSeconds(config): the ingress's timeoutSeconds or the gateway's
   * upstreamTimeoutSeconds, whichever is longer.
   * @default 300 (the ingress's default timeout)
   */
  readonly longestCallSeconds?: number;
}

/** The adapter's view of one model (parsed), for summaries and tests; throws the argument problems otherwise. */
export function modelContext(
  args: { readonly model: ModelConfig; readonly environment: Environment } & GpuPlacement,
): ModelContext {
  const resolved = resolveContext(args.model, args.environment, args);
  if (!resolved.ctx) throw argumentsError("ModelService", resolved.problems);
  return resolved.ctx;
}

/**
 * Scale to zero (replicas.min 0) needs KEDA and something that brings the model back (with no pod the engine exports
 * no metric): a working-hours schedule or a demand query. The stack's config rules report the same at config paths.
 */
export function scaleToZeroProblems(
  model: ModelConfig,
  autoscaling: boolean,
  demandQuery: string | undefined,
): ArgumentProblem[] {
  const gaps = scaleToZeroGap(model, { keda: autoscaling, demandQuery });
  // Without KEDA nothing scales at all: that is the one problem to report.
  if (gaps.includes("no-keda"))
    return [
      {
        propertyPath: "model.replicas.min",
        reason: `0 needs KEDA to scale to zero and back, but autoscaling is false. Fix: set replicas.min: 1, or autoscaling: true.`,
      },
    ];
  if (gaps.includes("nothing-wakes"))
    return [
      {
        propertyPath: "model.replicas.min",
        reason: `0 with nothing to bring the model back (with no pod the engine exports no metric). Fix: set model.autoscaling.activeHours, pass demandQuery, or set replicas.min: 1.`,
      },
    ];
  return [];
}

/**
 * One model, one engine, one task, with production defaults: Deployment (or KServe InferenceService), Service,
 * NetworkPolicy, PodDisruptionBudget, HF-token Secret, engine-file ConfigMap, ServiceMonitor and KEDA
 * ScaledObject. All engine knowledge comes from the adapter (components/serving/engines/<engine>.ts); each object
 * is planned by a pure function (planPod, planService, planNetworkPolicy, ...), so the constructor only creates them.
 */
export class ModelService extends pulumi.ComponentResource {
  /** In-cluster base URL of the engine, e.g. http://bge.retrieval.svc.cluster.local (port 80). */
  readonly url: pulumi.Output<string>;
  readonly modelName: string;
  readonly namespace: string;
  /** The model with defaults applied. */
  readonly model: ModelConfig;
  /** What was planned, for summaries and tests. */
  readonly engine: EngineWorkload;
  readonly pod: PodPlan;
  readonly scaling: ScalingPlan;
  /** Children. */
  readonly workload: k8s.apps.v1.Deployment | k8s.apiextensions.CustomResource;
  readonly service: k8s.core.v1.Service;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  readonly podDisruptionBudget?: k8s.policy.v1.PodDisruptionBudget;
  readonly hfTokenSecret?: k8s.core.v1.Secret;
  readonly files?: k8s.core.v1.ConfigMap;
  readonly serviceMonitor?: k8s.apiextensions.CustomResource;
  readonly scaledObject?: k8s.apiextensions.CustomResource;

  constructor(name: string, args: ModelServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Arguments are checked before the component registers: an invalid one leaves nothing half-created.
    const namespace = args.namespace ?? MODELS_NAMESPACE;
    const serviceMonitorOn = args.monitoring ?? true;
    const autoscalingOn = args.autoscaling ?? true;
    const { ctx, problems } = modelProblems(args.model, args.environment, args);
    const scaleProblems = ctx ? scaleToZeroProblems(ctx.model, autoscalingOn, args.demandQuery) : [];
    if (!ctx || scaleProblems.length) throw argumentsError(`ModelService ${name}`, [...problems, ...scaleProblems]);
    super("retrieval-stack:serving:ModelService", name, {}, opts);
    const model = ctx.model;
    const adapter = adapterFor(model.engine);
    const engine = adapter.workload(ctx);
    const profile = profileOf(args.environment);
    const o = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
      ...extra,
      parent: this,
      ...(args.provider ? { provider: args.provider } : {}),
    });

    this.modelName = model.name;
    this.namespace = namespace;
    this.model = model;
    this.engine = engine;
    const labels = standardLabels(model.name, "model-server", {
      [MODEL_POD_LABEL]: model.name,
      "retrieval-stack.io/engine": model.engine,
      "retrieval-stack.io/task": model.task,
    });
    // Selector labels: stable across engine changes (a selector is immutable on a Deployment).
    const selector = { "app.kubernetes.io/name": model.name, [MODEL_POD_LABEL]: model.name };
    const meta = (suffix = "") => ({ name: `${model.name}${suffix}`, namespace, labels });

    this.hfTokenSecret = args.hfToken
      ? new k8s.core.v1.Secret(
          `${name}-hf-token`,
          { metadata: meta("-hf-token"), type: "Opaque", stringData: { [HF_TOKEN_SECRET_KEY]: args.hfToken } },
          o(),
        )
      : undefined;
    this.files = engine.files
      ? new k8s.core.v1.ConfigMap(`${name}-files`, { metadata: meta("-files"), data: { ...engine.files } }, o())
      : undefined;

    const pod = planPod({
      ctx,
      workload: engine,
      nodeGroup: model.gpu?.nodeGroup,
      hfTokenSecretName: this.hfTokenSecret ? `${model.name}-hf-token` : undefined,
      filesConfigMapName: this.files ? `${model.name}-files` : undefined,
      podLabels: selector,
      metricsPort: adapter.metrics.port,
      // HA environments (>= 2 replicas required) refuse to stack replicas in one zone or on one node.
      strictSpread: profile.minReplicasFloor >= 2,
      namespace,
      gpuNodeLabels: args.gpuNodeLabels,
      longestCallSeconds: args.longestCallSeconds,
    });
    this.pod = pod;
    this.scaling = planScaling({
      model,
      metrics: adapter.metrics,
      selector: modelSelector(model.name, namespace),
      coldStartSeconds: pod.startupBudgetSeconds,
      demandQuery: args.demandQuery,
    });

    const rolling = profile.rollout !== "Recreate";
    const workloadInputs: WorkloadInputs = {
      metadata: meta(),
      selector,
      podLabels: labels,
      replicas: Math.max(1, model.replicas.min),
      maxReplicas: model.replicas.max,
      strategy: rolling
        ? // A new pod must be ready before an old one goes (maxUnavailable 0); one extra GPU at a time (maxSurge 1).
          { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }
        : { type: "Recreate" },
      pod,
    };
    const workloadOpts = o({
      dependsOn: [this.hfTokenSecret, this.files].filter((r): r is NonNullable<typeof r> => r !== undefined),
      // KEDA owns the replica count once it runs: Pulumi sets it at creation only.
      ...(autoscalingOn ? { ignoreChanges: autoscaledIgnoreChanges(engine.kind) } : {}),
      // Pulumi waits as long as the model may take to come up (its default 10 minutes is shorter).
      customTimeouts: awaitTimeouts(model, pod, rolling),
    });
    const isvc = engine.inferenceService;
    this.workload = isvc
      ? new k8s.apiextensions.CustomResource(
          `${name}-isvc`,
          planInferenceService(workloadInputs, isvc) as k8s.apiextensions.CustomResourceArgs,
          workloadOpts,
        )
      : new k8s.apps.v1.Deployment(`${name}-deployment`, planDeployment(workloadInputs), workloadOpts);

    const service = planService(model.name, labels, selector, engine, adapter.metrics);
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: { ...meta(), labels: service.labels }, spec: service.spec },
      o(),
    );
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta(),
        spec: planNetworkPolicy({
          podSelector: selector,
          httpPort: engine.port,
          metricsPort: adapter.metrics.port,
          peers: args.peers,
          egress: args.egress,
        }),
      },
      o(),
    );
    if (model.replicas.min >= 2)
      this.podDisruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        { metadata: meta(), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
        o(),
      );
    if (serviceMonitorOn)
      this.serviceMonitor = createServiceMonitor(
        `${name}-servicemonitor`,
        meta(),
        planServiceMonitor(model.name, namespace, service, adapter.metrics),
        o(),
      );
    if (autoscalingOn)
      this.scaledObject = new k8s.apiextensions.CustomResource(
        `${name}-scaledobject`,
        {
          apiVersion: "keda.sh/v1alpha1",
          kind: "ScaledObject",
          metadata: meta(),
          spec: scaledObjectSpec(this.scaling, isvc ? isvc.deploymentName : model.name, args.prometheusUrl),
        },
        o(),
      );

    this.url = pulumi.output(`http://${model.name}.${namespace}.svc.cluster.local`);
    this.registerOutputs({
      url: this.url,
      workload: this.workload,
      service: this.service,
      networkPolicy: this.networkPolicy,
      serviceMonitor: this.serviceMonitor,
      scaledObject: this.scaledObject,
    });
  }
}
