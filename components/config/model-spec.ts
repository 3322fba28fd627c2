import { z } from "zod";
import { Task } from "./common";
import { bounded } from "./formats";
import { fixMessage } from "./errors";

/**
 * What a user should not have to know about a model: its task, vector size, context length, size and
 * quirks. Facts from the model cards on Hugging Face (read Nov 2026; see docs/engines.md).
 * A model that is not listed here can still be served: give the same fields as `spec` in its config.
 */
export const ModelSpec = z.strictObject({
  task: Task.meta({ description: "embed or rerank: what the model does." }),
  dims: bounded({ min: 1, max: 65536, int: true, tooHigh: "no embedding model answers vectors that long" })
    .optional()
    .meta({ description: "Output vector size (embed models only)." }),
  matryoshka: z
    .boolean()
    .default(false)
    .meta({ description: "Matryoshka models accept a smaller `dimensions` request parameter." }),
  maxTokens: bounded({
    min: 1,
    max: 10_000_000,
    int: true,
    unit: " tokens",
    tooHigh: "no model has a context that long",
  }).meta({ description: "Longest input the model was trained for, in tokens." }),
  parametersB: bounded({
    min: 0,
    aboveMin: true,
    max: 2000,
    unit: "B",
    tooHigh: "no embedding or rerank model is that large, and the GPU checks would be meaningless",
  }).meta({ description: "Parameter count in billions: drives GPU memory checks and the startup-probe budget." }),
  normalized: z
    .boolean()
    .default(true)
    .meta({ description: "True when the model's own pooling ends in an L2 normalisation (cosine = dot product)." }),
  pooling: z
    .enum(["cls", "mean", "last", "none"])
    .default("cls")
    .meta({ description: "How the model turns token states into one vector (its model card says which)." }),
  architecture: z
    .enum(["bert", "xlm-roberta", "qwen3", "minilm"])
    .meta({ description: "The model's architecture family: which engines can serve it." }),
  decoderReranker: z.boolean().default(false).meta({
    description: "A decoder LLM used as a yes/no relevance scorer (Qwen3-Reranker): needs engine-specific overrides.",
  }),
  kvBytesPerToken: bounded({
    min: 0,
    max: 10_000_000,
    int: true,
    tooHigh: "no model keeps that much KV cache per token",
  })
    .default(0)
    .meta({
      description:
        "KV-cache bytes per token for decoder models (2 x layers x KV heads x head dim x 2 bytes); 0 for encoders.",
    }),
  languages: z
    .array(
      z.string().regex(/^([a-z]{2,3}|multilingual)$/, {
        message: fixMessage(
          "is not a language code",
          'write an ISO 639-1 code such as "en" or "zh", or "multilingual"',
        ),
      }),
    )
    .min(1)
    .optional()
    .meta({
      description:
        'Languages the model was trained for (ISO 639-1, e.g. ["zh"], or ["multilingual"]): the quality check and the canary use the part of the labelled set in these languages, and the fingerprint probes in them.',
    }),
  cpuFriendly: z.boolean().default(false).meta({ description: "Small enough to serve on CPU in the local stack." }),
});
export type ModelSpec = z.infer<typeof ModelSpec>;
export type ModelSpecInput = z.input<typeof ModelSpec>;
