/**
 * Size limits of one Kubernetes object, and a split of a growing list (rule groups, dashboards, routes) into
 * objects that stay under them, so that no object grows with the number of models without bound.
 *
 * - ConfigMap: "The data stored in a ConfigMap cannot exceed 1 MiB" (kubernetes/website,
 *   content/en/docs/concepts/configuration/configmap.md at 47132eb5; read 2026-12-07).
 * - Secret: "Individual Secrets are limited to 1MiB in size" (kubernetes/website, concepts/configuration/secret.md,
 *   "Size limit"; read 2026-12-07).
 * - Any object, custom resources included (a PrometheusRule), is stored by one etcd request: "By default, the
 *   maximum size of any request is 1.5 MiB", configurable with --max-request-bytes (etcd.io/docs/v3.4 and latest,
 *   dev-guide/limit; read 2026-12-07). A managed control plane (EKS) does not let you raise it.
 */
export const CONFIGMAP_DATA_LIMIT_BYTES = 1024 * 1024;
export const SECRET_DATA_LIMIT_BYTES = 1024 * 1024;
export const ETCD_REQUEST_LIMIT_BYTES = 1.5 * 1024 * 1024;

/**
 * What our split aims at per object: half the ConfigMap limit, which leaves room for metadata, the
 * last-applied-configuration annotation kubectl and Pulumi may add (a second copy of the object) and JSON escaping.
 */
const OBJECT_BUDGET_BYTES = 512 * 1024;

/**
 * Splits `items` in order into runs whose serialized sizes add up to at most `budget` bytes each. An item larger
 * than the budget gets a run of its own (the caller's size test then fails loudly rather than the API server).
 * One run when everything fits, so a small stack keeps one object as before.
 */
export function chunkBySize<T>(
  items: readonly T[],
  budget = OBJECT_BUDGET_BYTES,
  sizeOf: (item: T) => number = (item) => Buffer.byteLength(JSON.stringify(item)),
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let used = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && used + size > budget) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(item);
    used += size;
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current);
  return chunks;
}

/** The name of the i-th object of a split: the first keeps the base name, the others get -2, -3, ... */
export function chunkName(base: string, index: number): string {
  return index === 0 ? base : `${base}-${index + 1}`;
}
