import { z } from "zod";
import { Task } from "./common";

/**
 * What a user should not have to know about a model: its task, vector size, context length, size and
 * quirks. Facts from the model cards on Hugging Face (read Nov 2026; see ../shared/ENGINES.md).
 * A model that is not listed here can still be served: give the same fields as `spec` in its config.
 */
export const ModelSpec = z.strictObject({
  task: Task,
  /** Output vector size (embed models only). */
  dims: z.number().int().positive().optional(),
  /** Matryoshka models accept a smaller `dimensions` request parameter. */
  matryoshka: z.boolean().default(false),
  /** Longest input the model was trained for, in tokens. */
  maxTokens: z.number().int().positive(),
  /** Parameter count in billions: drives GPU memory checks and the startup-probe budget. */
  parametersB: z.number().positive(),
  /** True when the model's own pooling ends in an L2 normalisation (cosine = dot product). */
  normalized: z.boolean().default(true),
  pooling: z.enum(["cls", "mean", "last", "none"]).default("cls"),
  architecture: z.enum(["bert", "xlm-roberta", "qwen3", "minilm"]),
  /** A decoder LLM used as a yes/no relevance scorer (Qwen3-Reranker): needs engine-specific overrides. */
  decoderReranker: z.boolean().default(false),
  /** KV-cache bytes per token for decoder models (2 x layers x KV heads x head dim x 2 bytes); 0 for encoders. */
  kvBytesPerToken: z.number().int().nonnegative().default(0),
  /** Small enough to serve on CPU in the local stack. */
  cpuFriendly: z.boolean().default(false),
});
export type ModelSpec = z.infer<typeof ModelSpec>;
export type ModelSpecInput = z.input<typeof ModelSpec>;
