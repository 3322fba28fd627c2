import type { HttpDialect } from "./types";
import { vllmDialect } from "./vllm";
import { sglangDialect } from "./sglang";
import { teiDialect, teiNativeDialect } from "./tei";
import { kserveDialect, kserveV1Dialect, kserveV2Dialect } from "./kserve";
import { xinferenceDialect } from "./xinference";
import { openaiDialect } from "./openai";

/**
 * Every dialect by name, for callers that pick one explicitly (the CLI's `--dialect`, a KServe V2 endpoint).
 * Deployments pick theirs from the engine adapter (adapterFor(engine).dialect), never from this table.
 */
export const DIALECTS: Readonly<Record<string, HttpDialect>> = Object.fromEntries(
  [
    vllmDialect,
    sglangDialect,
    teiDialect,
    teiNativeDialect,
    kserveDialect,
    kserveV1Dialect,
    kserveV2Dialect,
    xinferenceDialect,
    openaiDialect,
  ].map((d) => [d.name, d]),
);

export function dialectNamed(name: string): HttpDialect | undefined {
  return DIALECTS[name];
}

export {
  vllmDialect,
  sglangDialect,
  teiDialect,
  teiNativeDialect,
  kserveDialect,
  kserveV1Dialect,
  kserveV2Dialect,
  xinferenceDialect,
  openaiDialect,
};
export * from "./types";
