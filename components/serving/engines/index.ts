import type { EngineName } from "../../config/common";
import type { EngineAdapter } from "./types";
import { vllm } from "./vllm";
import { sglang } from "./sglang";
import { tei } from "./tei";
import { kserve } from "./kserve";
import { xinference } from "./xinference";

/** The one place that maps an engine name to its adapter. Adding an engine = one adapter file + one line here. */
export const ENGINE_ADAPTERS: Readonly<Record<EngineName, EngineAdapter>> = { vllm, sglang, tei, kserve, xinference };

export function adapterFor(engine: EngineName): EngineAdapter {
  return ENGINE_ADAPTERS[engine];
}

export type { EngineAdapter, ModelContext, EngineMetrics } from "./types";
