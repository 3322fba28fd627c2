/**
 * Which keys have spent their monthly GPU budget (cost.budgets, docs/cost.md), for the opt-in refusal
 * (cost.refuseOverBudget): learnt from the stack's Prometheus, where the cost rules record
 * `retrieval_stack:key_budget_used:ratio{key}` (month-to-date cost / budget), or from a mounted JSON file
 * `{"spent": ["<key>", ...]}`. Refreshed in the background; a failed refresh keeps what was known (a key is never
 * let through because Prometheus blinked, nor refused because it did), and the next one tries again.
 */
import * as fs from "node:fs";
import { GatewayError } from "./errors";

/** The recorded ratio the refusal reads (components/observability/cost/names.ts, COST_SERIES.keyBudgetUsed). */
export const BUDGET_USED_SERIES = "retrieval_stack:key_budget_used:ratio";

type BudgetSource = { readonly prometheus: string } | { readonly file: string };

interface SpentBudgetsOptions {
  readonly source: BudgetSource;
  /** Background refresh period; default 60 s (the budget rules run every 5 minutes). */
  readonly refreshMs?: number;
  /** Where a failed refresh is reported (default stderr). */
  readonly log?: (line: string) => void;
}

export class SpentBudgets {
  private spent = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** When the set was last learnt (ms), undefined before the first success. */
  asOf: number | undefined;

  constructor(private readonly o: SpentBudgetsOptions) {}

  isSpent(key: string): boolean {
    return this.spent.has(key);
  }

  /** The 429 for a key whose budget is spent, until the first of next month (UTC); undefined otherwise. */
  refusal(key: string, now = new Date()): GatewayError | undefined {
    if (!this.spent.has(key)) return undefined;
    const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    const retry = Math.max(1, Math.ceil((next - now.getTime()) / 1000));
    return new GatewayError(
      429,
      "rate_limit_error",
      "budget_exhausted",
      `Key ${key} has spent its monthly GPU budget; it is refused until the budget is raised or the month ends (UTC).`,
      null,
      { "retry-after": String(retry) },
    );
  }

  async refresh(): Promise<void> {
    try {
      this.spent = "file" in this.o.source ? readFile(this.o.source.file) : await query(this.o.source.prometheus);
      this.asOf = Date.now();
    } catch (e) {
      (this.o.log ?? ((l) => process.stderr.write(`${l}\n`)))(
        `retrieval-gateway: budgets not refreshed (${e instanceof Error ? e.message : String(e)}); keeping the last known`,
      );
    }
  }

  /** First refresh now, then every refreshMs; the timer does not keep the process alive. */
  start(): Promise<void> {
    this.timer ??= setInterval(() => void this.refresh(), this.o.refreshMs ?? 60_000).unref();
    return this.refresh();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function readFile(file: string): Set<string> {
  const body = JSON.parse(fs.readFileSync(file, "utf8")) as { spent?: unknown };
  if (!Array.isArray(body.spent) || !body.spent.every((k) => typeof k === "string"))
    throw new Error(`${file}: expected {"spent": ["<key>", ...]}`);
  return new Set(body.spent as string[]);
}

async function query(base: string): Promise<Set<string>> {
  const url = `${base.replace(/\/+$/, "")}/api/v1/query?query=${encodeURIComponent(`${BUDGET_USED_SERIES} >= 1`)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json().catch(() => undefined)) as
    { status?: string; data?: { result?: { metric?: Record<string, string> }[] } } | undefined;
  if (!res.ok || body?.status !== "success") throw new Error(`Prometheus answered ${res.status}`);
  return new Set((body.data?.result ?? []).flatMap((r) => (r.metric?.key ? [r.metric.key] : [])));
}
