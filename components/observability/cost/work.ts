import type { GatewayConfig, ModelConfig } from "../../config";
import { dialectNamed } from "../../serving/dialects";
import { adapterFor } from "../../serving/engines";

/**
 * The unit a model's work is measured in, per key, from the gateway's counters (images/gateway/src/metrics.ts):
 * input tokens when the engine reports them (for rerank, the engines count the tokens of every query-document
 * pair, i.e. documents x tokens per pair), else rerank documents or embedding inputs.
 */
export type WorkUnit = "tokens" | "documents" | "inputs";

export const WORK_COUNTER: Readonly<Record<WorkUnit, string>> = {
  tokens: "retrieval_gateway_input_tokens_total",
  documents: "retrieval_gateway_documents_total",
  inputs: "retrieval_gateway_inputs_total",
};

/** The dialect the gateway speaks to the model (gateway.dialects overrides the adapter's) decides the unit. */
export function workUnitOf(model: ModelConfig, gateway?: Pick<GatewayConfig, "dialects">): WorkUnit {
  const dialect = dialectNamed(gateway?.dialects[model.name] ?? "") ?? adapterFor(model.engine).dialect;
  const endpoint = model.task === "rerank" ? dialect.rerank : dialect.embed;
  if (endpoint?.tokens) return "tokens";
  return model.task === "rerank" ? "documents" : "inputs";
}
