import { placeholderAdapter } from "./_placeholder";
import { kserveDialect } from "../dialects/kserve";
export const kserve = placeholderAdapter("kserve", kserveDialect);
