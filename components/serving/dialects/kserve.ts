import type { HttpDialect } from "./types";

// TEMPORARY: replaced by the real dialect (issue: post-deploy verification).
export const kserveDialect: HttpDialect = { healthPath: () => "/health" };
