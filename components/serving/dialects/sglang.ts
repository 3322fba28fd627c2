import type { HttpDialect } from "./types";

// TEMPORARY: replaced by the real dialect (issue: post-deploy verification).
export const sglangDialect: HttpDialect = { healthPath: () => "/health" };
