/**
 * KServe ClusterServingRuntime (serving.kserve.io/v1alpha1), from KServe's API reference ("Control Plane API"
 * v1alpha1: ServingRuntimeSpec, SupportedModelFormat, ServingRuntimePodSpec) and pkg/apis/serving/v1alpha1
 * servingruntime_types.go (read 2026-11). The runtime's containers and pod fields are checked with kubernetes-models'
 * Kubernetes schemas, the KServe fields here.
 */
import { z } from "zod";
import { Container } from "kubernetes-models/v1/Container";

const SupportedModelFormat = z.strictObject({
  name: z.string().min(1),
  version: z.string().min(1).optional(),
  autoSelect: z.boolean().optional(),
  priority: z.number().int().positive().optional(),
});

const ServingRuntimeSpec = z.looseObject({
  supportedModelFormats: z.array(SupportedModelFormat).min(1),
  protocolVersions: z.array(z.enum(["v1", "v2", "grpc-v1", "grpc-v2"])).optional(),
  multiModel: z.boolean().optional(),
  disabled: z.boolean().optional(),
  containers: z
    .array(z.looseObject({ name: z.string().min(1) }))
    .min(1)
    .superRefine((containers, ctx) =>
      containers.forEach((c, i) => {
        try {
          new Container(c as never).validate();
        } catch (e) {
          ctx.addIssue({ code: "custom", path: [i], message: `container: ${(e as Error).message}` });
        }
      }),
    ),
});

export const ClusterServingRuntimeSchema = z.strictObject({
  apiVersion: z.literal("serving.kserve.io/v1alpha1"),
  kind: z.literal("ClusterServingRuntime"),
  metadata: z.looseObject({
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      .max(253),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: ServingRuntimeSpec,
});
