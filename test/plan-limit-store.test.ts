// plan.md shows the ElastiCache limit store a cloud stack creates for the gateway, and its monthly cost from the
// dated price table (components/cluster/limit-store-spec.ts), never a figure nobody confirmed.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { sharedPlan } from "./shared-plans";
import { ELASTICACHE_NODE_PRICES, LIMIT_STORE, limitStoreCost } from "../components/cluster/limit-store-spec";

async function planMd(stack: string): Promise<string> {
  const { out, result } = await sharedPlan(stack);
  expect(result.code, result.stderr).toBe(0);
  return fs.readFileSync(path.join(out, "plan.md"), "utf8");
}

const section = (md: string) => {
  const start = md.indexOf("## Gateway limit store");
  return start < 0 ? undefined : md.slice(start, md.indexOf("\n## ", start + 1));
};

describe("plan.md: the gateway's limit store and its cost", () => {
  it.each(["prod", "staging"])(
    "%s: the replication group, its nodes and the price table's answer for them",
    async (stack) => {
      const s = section(await planMd(stack))!;
      expect(s, "section present").toBeDefined();
      const row = s.split("\n").find((l) => l.startsWith("| `gateway-limits-valkey`"))!;
      const cells = row.split("|").map((c) => c.trim());
      expect(cells.slice(1, 6)).toEqual([
        "`gateway-limits-valkey`",
        `${LIMIT_STORE.engine} ${LIMIT_STORE.engineVersion}`,
        LIMIT_STORE.nodeType,
        String(LIMIT_STORE.nodes),
        "us-east-1",
      ]);
      const price = ELASTICACHE_NODE_PRICES[`${LIMIT_STORE.engine}/${LIMIT_STORE.nodeType}/us-east-1`]!;
      // The table's entry, with its source and date; an unconfirmed price is said to be so, never shown as a figure.
      expect(cells[8]).toBe(`${price.source} (${price.checked})`);
      if (price.usdPerHour === undefined) {
        expect(cells[6]).toBe("not confirmed");
        expect(cells[7]).toBe("unknown (price not confirmed)");
      } else {
        expect(cells[6]).toBe(`$${price.usdPerHour}`);
        expect(cells[7]).toMatch(/^\$[\d,]+$/);
      }
    },
    240_000,
  );

  it("local: no managed store, no section (the counter store is a pod in the cluster)", async () => {
    const md = await planMd("local");
    expect(section(md)).toBeUndefined();
    expect(md).not.toContain("gateway-limits-valkey");
  }, 240_000);

  it("a confirmed price gives nodes x USD/hour x 730 h; a missing one gives no figure", () => {
    const prices = { "valkey/cache.t4g.small/us-east-1": { usdPerHour: 0.05, source: "test", checked: "2026-12-07" } };
    expect(
      limitStoreCost({ engine: "valkey", nodeType: "cache.t4g.small", nodes: 2 }, "us-east-1", prices).usdPerMonth,
    ).toBe(73);
    const unknown = limitStoreCost({ engine: "valkey", nodeType: "cache.t4g.small", nodes: 2 }, "eu-west-1", prices);
    expect(unknown.price).toBeUndefined();
    expect(unknown.usdPerMonth).toBeUndefined();
  });
});
