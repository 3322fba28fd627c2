import { placeholderAdapter } from "./_placeholder";
import { sglangDialect } from "../dialects/sglang";
export const sglang = placeholderAdapter("sglang", sglangDialect);
