// TEMPORARY scaffolding so the foundation compiles; replaced by the real adapters (issue: model serving).
import type { EngineName } from "../../config/common";
import type { EngineAdapter } from "./types";
import type { HttpDialect } from "../dialects/types";

export function placeholderAdapter(name: EngineName, dialect: HttpDialect): EngineAdapter {
  return {
    name,
    displayName: name,
    validate: () => [],
    metrics: {
      path: "/metrics",
      port: 8000,
      metricNames: [],
      inFlight: () => "vector(0)",
      latencyP99: () => "vector(0)",
      requestRate: () => "vector(0)",
    },
    dialect,
  };
}
