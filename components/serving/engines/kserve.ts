import { placeholderAdapter } from "./_placeholder";
export const kserve = placeholderAdapter("kserve");
