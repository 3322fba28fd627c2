import { createHash, type Hash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Scored } from "./engine";

/**
 * Optional rerank cache per model (off unless the model is listed in gateway.rerankCache): one entry per
 * (model, query, documents, top_n, return_documents), bounded by entries and TTL, holding the full ranking.
 * The key is a SHA-256 of a length-prefixed encoding of those fields: no two different requests encode alike
 * (a separator inside a text cannot shift a field boundary), and the cache holds no text.
 */
export interface RerankKey {
  readonly model: string;
  readonly query: string;
  readonly documents: readonly string[];
  readonly topN: number | undefined;
  readonly returnDocuments: boolean;
}

/** A field as its UTF-8 byte length (decimal) and ':' then its bytes. */
function field(h: Hash, text: string): void {
  h.update(`${Buffer.byteLength(text, "utf8")}:`).update(text, "utf8");
}

export class RerankCache {
  private readonly lru: LRUCache<string, Scored[]>;
  constructor(maxEntries: number, ttlSeconds: number) {
    this.lru = new LRUCache<string, Scored[]>({ max: maxEntries, ttl: ttlSeconds * 1000 });
  }
  static key(k: RerankKey): string {
    const h = createHash("sha256");
    field(h, k.model);
    field(h, k.query);
    h.update(`${k.documents.length}#`);
    for (const d of k.documents) field(h, d);
    h.update(`${k.topN ?? 0}|${k.returnDocuments ? 1 : 0}`);
    return h.digest("base64");
  }
  /** The ranking stored under `key`, when it ranks exactly `documents` documents. */
  get(key: string, documents: number): Scored[] | undefined {
    const r = this.lru.get(key);
    return r && r.length === documents ? r : undefined;
  }
  set(key: string, value: Scored[]): void {
    this.lru.set(key, value);
  }
}
