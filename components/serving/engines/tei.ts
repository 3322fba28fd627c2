import { placeholderAdapter } from "./_placeholder";
export const tei = placeholderAdapter("tei");
