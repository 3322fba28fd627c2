import { placeholderAdapter } from "./_placeholder";
import { vllmDialect } from "../dialects/vllm";
export const vllm = placeholderAdapter("vllm", vllmDialect);
