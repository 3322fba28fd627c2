import type { z } from "zod";
import { InferenceServiceSchema } from "./kserve";
import { ClusterServingRuntimeSchema } from "./kserve-runtime";
import { PolicySchema, VirtualServerRouteSchema, VirtualServerSchema } from "./k8s.nginx.org";

/**
 * Schemas of ours for custom resources that no kubernetes-models package covers, keyed by
 * "<apiVersion>/<kind>". Each is written from the project's CRD or API reference (named in its file).
 */
export const LOCAL_SCHEMAS: Record<string, z.ZodTypeAny> = {
  "serving.kserve.io/v1beta1/InferenceService": InferenceServiceSchema,
  "serving.kserve.io/v1alpha1/ClusterServingRuntime": ClusterServingRuntimeSchema,
  "k8s.nginx.org/v1/VirtualServer": VirtualServerSchema,
  "k8s.nginx.org/v1/VirtualServerRoute": VirtualServerRouteSchema,
  "k8s.nginx.org/v1/Policy": PolicySchema,
};
