import type { EmbedRequest, EndpointDialect, HttpDialect } from "./types";
import { DialectError } from "./types";
import { cohereRerank, openaiEmbeddings, openaiModelList } from "./openai";
import { describe, expectArray, expectRecord, expectNumber, fail, parseVectorList } from "./shape";

/**
 * KServe huggingfaceserver (kserve docs "Hugging Face LLM runtime" and python/huggingfaceserver, read 2026-11;
 * docs/engines.md). One server, three protocols; the model name is the InferenceService's `--model_name`.
 */

/** V1 model status `GET /v1/models/<n>` → {name, ready}: a 200 with ready=false is not serving. */
function parseReady(body: unknown, where: string): void {
  const ready = expectRecord(body, where, 'an object {"ready": true}').ready;
  if (ready !== true) throw new DialectError(`${where}: expected "ready": true, got ${describe(ready)}`);
}

/**
 * The OpenAI routes under `/openai/v1/...` (embeddings on both backends; rerank on the vLLM backend only).
 * The HF backend answers embeddings with a top-level `"object": "embedding"` instead of `"list"`: not read.
 * Rerank `results[].document` is a string in KServe's docs (vLLM's `{text}` when passed through): not read.
 */
export const kserveDialect: HttpDialect = {
  name: "kserve",
  healthPath: (model) => `/v1/models/${model}`,
  parseHealth: (body, model) => parseReady(body, `/v1/models/${model}`),
  models: openaiModelList("/openai/v1"),
  embed: openaiEmbeddings("/openai/v1"),
  rerank: cohereRerank("/openai/v1/rerank"),
  rerankHonoursTopN: true,
};

/** V1 `POST /v1/models/<n>:predict` {"instances": [texts]} → {"predictions": [[floats], ...]}. */
const v1Embed: EndpointDialect<EmbedRequest, number[][]> = {
  path: (model) => `/v1/models/${model}:predict`,
  build: (r) => ({ instances: [...r.inputs] }),
  parse: (body) =>
    parseVectorList(
      expectRecord(body, ":predict", 'an object {"predictions": [[numbers]]}').predictions,
      ":predict.predictions",
    ),
};

/** KServe V1 (embeddings only). */
export const kserveV1Dialect: HttpDialect = {
  name: "kserve-v1",
  healthPath: (model) => `/v1/models/${model}`,
  parseHealth: (body, model) => parseReady(body, `/v1/models/${model}`),
  embed: v1Embed,
};

/**
 * V2 (Open Inference Protocol) `POST /v2/models/<n>/infer`
 * {"inputs": [{"name": "input-0", "shape": [N], "datatype": "BYTES", "data": [texts]}]} →
 * {"outputs": [{"name": "output-0", "shape": [N, D], "datatype": "FP32"|"FP64", "data": [N*D floats, row-major]}]}.
 */
const v2Embed: EndpointDialect<EmbedRequest, number[][]> = {
  path: (model) => `/v2/models/${model}/infer`,
  build: (r) => ({ inputs: [{ name: "input-0", shape: [r.inputs.length], datatype: "BYTES", data: [...r.inputs] }] }),
  parse: (body) => {
    const outputs = expectArray(
      expectRecord(body, "/infer", 'an object {"outputs": [...]}').outputs,
      "/infer.outputs",
      "a list of output tensors",
    );
    const out = expectRecord(outputs[0], "/infer.outputs[0]", "an output tensor {shape, data}");
    const shape = expectArray(out.shape, "/infer.outputs[0].shape", "a shape [N, D]");
    if (shape.length !== 2 || !shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0))
      fail("/infer.outputs[0].shape", "a 2-D shape [N, D]", shape);
    const [rows, cols] = shape as [number, number];
    const data = expectArray(out.data, "/infer.outputs[0].data", "a flat list of numbers");
    // Some servers nest the rows; flatten one level so both layouts read the same.
    const flat = data.length > 0 && Array.isArray(data[0]) ? (data as unknown[][]).flat() : data;
    if (flat.length !== rows * cols)
      fail("/infer.outputs[0].data", `${rows}×${cols} = ${rows * cols} numbers (shape ${JSON.stringify(shape)})`, flat);
    const values = flat.map((v, i) => expectNumber(v, `/infer.outputs[0].data[${i}]`));
    return Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
  },
};

/** KServe V2 / Open Inference Protocol (embeddings only); health is the server-wide `/v2/health/ready`. */
export const kserveV2Dialect: HttpDialect = {
  name: "kserve-v2",
  healthPath: () => "/v2/health/ready",
  parseHealth: (body) => parseReady(body, "/v2/health/ready"),
  embed: v2Embed,
};
