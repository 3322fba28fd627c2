import { placeholderAdapter } from "./_placeholder";
import { teiDialect } from "../dialects/tei";
export const tei = placeholderAdapter("tei", teiDialect);
