import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Scored } from "./engine";

/**
 * Optional rerank cache per model (off unless the model is listed in gateway.rerankCache): (model, query,
 * documents) -> the full ranking, bounded by entries and TTL. top_n is applied after the lookup, so one entry
 * serves every top_n. The key is a SHA-256 of the texts: the cache holds no text.
 */
export class RerankCache {
  private readonly lru: LRUCache<string, Scored[]>;
  constructor(maxEntries: number, ttlSeconds: number) {
    this.lru = new LRUCache<string, Scored[]>({ max: maxEntries, ttl: ttlSeconds * 1000 });
  }
  static key(model: string, query: string, documents: readonly string[]): string {
    const h = createHash("sha256").update(model).update("\u0000").update(query);
    for (const d of documents) h.update("\u0000").update(d);
    return h.digest("base64");
  }
  get(key: string): Scored[] | undefined {
    return this.lru.get(key);
  }
  set(key: string, value: Scored[]): void {
    this.lru.set(key, value);
  }
}
