/** What the managed limit store is (pure, for the plan summary too); the component is limit-store.ts. */
export const LIMIT_STORE = {
  engine: "valkey",
  engineVersion: "9.0",
  /** Counters of a few thousand keys: the smallest Graviton node with room to spare. */
  nodeType: "cache.t4g.small",
  /** Primary + one replica in another zone: what Multi-AZ automatic failover needs. */
  nodes: 2,
  port: 6379,
} as const;
