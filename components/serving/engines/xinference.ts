import { placeholderAdapter } from "./_placeholder";
export const xinference = placeholderAdapter("xinference");
