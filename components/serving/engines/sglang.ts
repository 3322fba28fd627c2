import { placeholderAdapter } from "./_placeholder";
export const sglang = placeholderAdapter("sglang");
