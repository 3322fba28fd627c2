import { FILES_MOUNT_PATH } from "./common";
import type { ModelSpec } from "../models";

/**
 * Server-side prompt for Qwen/Qwen3-Reranker-* (a decoder that answers "yes"/"no"), so clients can send plain
 * query/documents. The prompt is the one of the model card and vLLM's examples/pooling/score/template/
 * qwen3_reranker.jinja (read 2026-11). One template serves both engines:
 * - vLLM renders it with `messages` whose roles are "query" and "document" (and an optional "system" or
 *   `instruction`/`instruct` variable for the task);
 * - SGLang renders it with plain `query`, `document` and `instruct` variables, and recognises a Qwen3 reranker
 *   template by the phrase `answer can only be "yes" or "no"` (sglang serving_rerank.py, read 2026-11).
 * The final blank lines are written as an expression: Jinja drops one trailing newline of a template file.
 */
const QWEN3_RERANKER_TEMPLATE_FILE = "qwen3_reranker.jinja";

const QWEN3_RERANKER_DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query";

export const QWEN3_RERANKER_TEMPLATE = [
  `{#- Qwen3-Reranker prompt (retrieval-stack). Works with vLLM (messages) and SGLang (query/document/instruct). -#}`,
  `{%- set _msgs = messages if messages is defined else [] -%}`,
  `{%- set _query = query if query is defined else (_msgs | selectattr("role", "eq", "query") | map(attribute="content") | first) -%}`,
  `{%- set _doc = document if document is defined else (_msgs | selectattr("role", "eq", "document") | map(attribute="content") | first) -%}`,
  `{%- set _system = _msgs | selectattr("role", "eq", "system") | map(attribute="content") | first -%}`,
  `{%- set _task = instruction or instruct or _system or "${QWEN3_RERANKER_DEFAULT_INSTRUCTION}" -%}`,
  `<|im_start|>system`,
  `Judge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>`,
  `<|im_start|>user`,
  `<Instruct>: {{ _task }}`,
  `<Query>: {{ _query }}`,
  `<Document>: {{ _doc }}<|im_end|>`,
  `<|im_start|>assistant`,
  `<think>`,
  ``,
  `</think>{{ "\\n\\n" }}`,
].join("\n");

/** Where the engine reads the template: the ConfigMap file every Qwen3-Reranker pod mounts. */
export const QWEN3_RERANKER_TEMPLATE_PATH = `${FILES_MOUNT_PATH}/${QWEN3_RERANKER_TEMPLATE_FILE}`;

/** The workload's files for a decoder reranker (the template in a ConfigMap), nothing for other models. */
export function qwen3RerankerFiles(spec: ModelSpec): { files?: Record<string, string>; filesMountPath?: string } {
  return spec.decoderReranker
    ? { files: { [QWEN3_RERANKER_TEMPLATE_FILE]: QWEN3_RERANKER_TEMPLATE }, filesMountPath: FILES_MOUNT_PATH }
    : {};
}
