/**
 * Reads the promotion gate's numbers from Prometheus's HTTP API (`GET /api/v1/query`, instant queries; the
 * response shape `{status, data: {resultType: "vector", result: [{value: [t, "x"]}]}}` per
 * prometheus.io/docs/prometheus/latest/querying/api, read 2026-12-07). An empty vector or NaN is missing
 * evidence (undefined), never 0.
 */
import { promotionQueries, type Evidence, type EvidenceName, type Promotion, type PromotionGate } from "./promotion";

export async function instantQuery(
  base: string,
  promql: string,
  at?: Date,
  timeoutMs = 10_000,
): Promise<number | undefined> {
  const params = new URLSearchParams({ query: promql });
  if (at) params.set("time", String(at.getTime() / 1000));
  const url = `${base.replace(/\/+$/, "")}/api/v1/query?${params.toString()}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(`Prometheus at ${base} unreachable: ${(error as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as
    { status?: string; error?: string; data?: { result?: { value?: [number, string] }[] } } | undefined;
  if (!res.ok || body?.status !== "success")
    throw new Error(`Prometheus at ${base} refused ${promql}: HTTP ${res.status} ${body?.error ?? ""}`.trim());
  const first = body.data?.result?.[0]?.value?.[1];
  const value = first === undefined ? NaN : Number(first);
  return Number.isFinite(value) ? value : undefined;
}

/** Every number of one promotion's evidence, read at `at` (default: now). */
export async function readEvidence(
  base: string,
  p: Promotion,
  gate: Pick<PromotionGate, "window">,
  at?: Date,
): Promise<Evidence> {
  const queries = promotionQueries(p, gate);
  const names = (Object.keys(queries) as EvidenceName[]).filter(
    (n) => p.task === "rerank" || !["shadowCalls", "kendallTau", "top3", "ndcgAt10"].includes(n),
  );
  const values = await Promise.all(names.map((n) => instantQuery(base, queries[n], at)));
  return Object.fromEntries(names.map((n, i) => [n, values[i]]).filter(([, v]) => v !== undefined)) as Evidence;
}
