import { placeholderAdapter } from "./_placeholder";
export const vllm = placeholderAdapter("vllm");
