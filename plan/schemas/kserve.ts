/**
 * KServe InferenceService (serving.kserve.io/v1beta1), from KServe's API reference (kserve.github.io/website
 * "Control Plane API" v1beta1: InferenceServiceSpec, PredictorSpec, ComponentExtensionSpec, ModelSpec) and
 * pkg/apis/serving/v1beta1 (predictor.go, component.go, read 2026-11).
 * A PredictorSpec is a Kubernetes PodSpec (inlined) plus the component extension fields plus `model`; the
 * PodSpec and container parts are checked with kubernetes-models' own Kubernetes schemas, the rest here.
 */
import { z } from "zod";
import { PodSpec } from "kubernetes-models/v1/PodSpec";
import { Container } from "kubernetes-models/v1/Container";

const Quantity = z.union([z.string(), z.number()]);

/** Runs a kubernetes-models validator and turns its error into a zod issue. */
function k8sValid(validate: (v: unknown) => void, what: string) {
  return (value: unknown, ctx: z.RefinementCtx) => {
    try {
      validate(value);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: `${what}: ${(e as Error).message}` });
    }
  };
}

/** InferenceService annotations KServe reads (docs "Raw Deployment", "Autoscaling", read 2026-11). */
const Annotations = z.record(z.string(), z.string()).superRefine((a, ctx) => {
  const mode = a["serving.kserve.io/deploymentMode"];
  if (mode !== undefined && !["RawDeployment", "Standard", "Serverless", "Knative", "ModelMesh"].includes(mode))
    ctx.addIssue({
      code: "custom",
      message: `serving.kserve.io/deploymentMode "${mode}" is not a KServe deployment mode`,
    });
  const autoscaler = a["serving.kserve.io/autoscalerClass"];
  if (autoscaler !== undefined && !["hpa", "keda", "external", "none"].includes(autoscaler))
    ctx.addIssue({
      code: "custom",
      message: `serving.kserve.io/autoscalerClass "${autoscaler}" is not one of hpa, keda, external, none`,
    });
});

const DeploymentStrategy = z.strictObject({
  type: z.enum(["RollingUpdate", "Recreate"]),
  rollingUpdate: z.strictObject({ maxUnavailable: Quantity.optional(), maxSurge: Quantity.optional() }).optional(),
});

/** ComponentExtensionSpec: fields every KServe component (predictor, transformer, explainer) adds to its pod. */
const COMPONENT_EXTENSION = {
  minReplicas: z.number().int().nonnegative().optional(),
  maxReplicas: z.number().int().nonnegative().optional(),
  scaleTarget: z.number().int().positive().optional(),
  scaleMetric: z.enum(["cpu", "memory", "concurrency", "rps"]).optional(),
  scaleMetricType: z.enum(["Utilization", "AverageValue", "Value"]).optional(),
  containerConcurrency: z.number().int().nonnegative().optional(),
  timeout: z.number().int().nonnegative().optional(),
  canaryTrafficPercent: z.number().int().min(0).max(100).optional(),
  logger: z.looseObject({}).optional(),
  batcher: z.looseObject({}).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  deploymentStrategy: DeploymentStrategy.optional(),
  autoScaling: z.looseObject({}).optional(),
} as const;

/** ModelSpec: a container (name optional: KServe names it kserve-container) plus the model's format and source. */
const MODEL_FIELDS = ["modelFormat", "runtime", "protocolVersion", "storageUri", "storage"] as const;
const ModelSpec = z
  .looseObject({
    modelFormat: z.strictObject({ name: z.string().min(1), version: z.string().optional() }),
    runtime: z.string().min(1).optional(),
    protocolVersion: z.enum(["v1", "v2", "grpc-v1", "grpc-v2"]).optional(),
    storageUri: z.string().min(1).optional(),
    storage: z.looseObject({}).optional(),
  })
  .superRefine((m, ctx) => {
    const container = Object.fromEntries(
      Object.entries(m).filter(([k]) => !(MODEL_FIELDS as readonly string[]).includes(k)),
    );
    k8sValid((v) => new Container(v as never).validate(), "model container")(
      { name: "kserve-container", ...container },
      ctx,
    );
  });

const EXTENSION_KEYS = new Set(Object.keys(COMPONENT_EXTENSION));
const PredictorSpec = z.looseObject({ ...COMPONENT_EXTENSION, model: ModelSpec.optional() }).superRefine((p, ctx) => {
  const pod = Object.fromEntries(Object.entries(p).filter(([k]) => !EXTENSION_KEYS.has(k) && k !== "model"));
  k8sValid((v) => new PodSpec(v as never).validate(), "predictor pod spec")({ containers: [], ...pod }, ctx);
  if (!p.model && !(Array.isArray(pod.containers) && pod.containers.length))
    ctx.addIssue({ code: "custom", message: "predictor needs a model or containers" });
  if (
    p.minReplicas !== undefined &&
    p.maxReplicas !== undefined &&
    p.maxReplicas !== 0 &&
    p.minReplicas > p.maxReplicas
  )
    ctx.addIssue({ code: "custom", message: `minReplicas ${p.minReplicas} is above maxReplicas ${p.maxReplicas}` });
});

export const InferenceServiceSchema = z.strictObject({
  apiVersion: z.literal("serving.kserve.io/v1beta1"),
  kind: z.literal("InferenceService"),
  metadata: z.looseObject({
    // KServe derives Service and Deployment names from it: a DNS-1035 label (webhook validation).
    name: z
      .string()
      .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/)
      .max(63),
    namespace: z.string().min(1).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: Annotations.optional(),
  }),
  spec: z.strictObject({
    predictor: PredictorSpec,
    transformer: z.looseObject({}).optional(),
    explainer: z.looseObject({}).optional(),
  }),
});
