import { HOURS_PER_MONTH } from "./instances";

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

/** On-demand price of one ElastiCache node, per engine, node type and region, with where and when it was checked. */
interface CacheNodePrice {
  /** USD per node-hour; undefined when no source in reach confirmed it (then no figure is shown, none invented). */
  readonly usdPerHour?: number;
  /** Where the price was (or could not be) confirmed. */
  readonly source: string;
  readonly checked: string;
}

/**
 * ElastiCache on-demand node prices, like the GPU instance catalogue (components/cluster/instances.ts): the figure,
 * its source and the date. Keyed `<engine>/<nodeType>/<region>`. cache.t4g.small for Valkey in us-east-1 is NOT
 * confirmed: AWS's ElastiCache pricing page (aws.amazon.com/elasticache/pricing) as stored on 2026-12-07 carries
 * the pricing model (per node-hour, on-demand or reserved; Valkey node-based priced below Redis OSS) but not the
 * node price tables, which the page loads at run time; the figures found elsewhere were third parties' and differ,
 * so none is used. Check the pricing page (or `aws pricing get-products --service-code AmazonElastiCache`) and
 * add the figure here with its date.
 */
export const ELASTICACHE_NODE_PRICES: Readonly<Record<string, CacheNodePrice>> = {
  "valkey/cache.t4g.small/us-east-1": {
    source:
      "not confirmed: AWS's ElastiCache pricing page, as reachable, holds no node price table (third-party figures not used)",
    checked: "2026-12-07",
  },
};

interface LimitStoreCost {
  readonly engine: string;
  readonly nodeType: string;
  readonly nodes: number;
  readonly region: string;
  readonly price: CacheNodePrice | undefined;
  /** nodes x USD/hour x 730, when the price is known. */
  readonly usdPerMonth?: number;
}

/** What a managed limit store of `nodes` x `nodeType` costs per month in `region` (on-demand, 730 h/month). */
export function limitStoreCost(
  s: { readonly engine: string; readonly nodeType: string; readonly nodes: number },
  region: string,
  prices: Readonly<Record<string, CacheNodePrice>> = ELASTICACHE_NODE_PRICES,
): LimitStoreCost {
  const price = prices[`${s.engine}/${s.nodeType}/${region}`];
  return {
    ...s,
    region,
    price,
    ...(price?.usdPerHour !== undefined
      ? { usdPerMonth: Math.round(s.nodes * price.usdPerHour * HOURS_PER_MONTH * 100) / 100 }
      : {}),
  };
}
