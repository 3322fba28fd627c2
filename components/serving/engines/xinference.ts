import { placeholderAdapter } from "./_placeholder";
import { xinferenceDialect } from "../dialects/xinference";
export const xinference = placeholderAdapter("xinference", xinferenceDialect);
