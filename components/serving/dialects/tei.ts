import type { HttpDialect } from "./types";

// TEMPORARY: replaced by the real dialect (issue: post-deploy verification).
export const teiDialect: HttpDialect = { healthPath: () => "/health" };
