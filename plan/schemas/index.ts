import type { z } from "zod";

/**
 * Schemas of ours for custom resources that no kubernetes-models package covers, keyed by
 * "<apiVersion>/<kind>". Each is written from the project's CRD or API reference (named in its file).
 */
export const LOCAL_SCHEMAS: Record<string, z.ZodTypeAny> = {};
