// CI runs the alert rules through Debian's promtool 2.42; the cluster evaluates them with Prometheus 3.x
// (kube-prometheus-stack's prometheus image, components/versions.ts). A rule must mean the same under both, so
// the rules stay within what both accept; this check names every rule that uses a feature that differs.
// Sources (prometheus/prometheus, read 2026-12-07): CHANGELOG.md 3.0.0 and later, docs/migration.md ("PromQL"),
// promql/parser/functions.go at v2.42.0 (225c611) and v3.14.0 (d7598b7). docs/ci-and-policies.md explains each item.

/** The rule file shape both versions read: `groups[].{name, interval, limit, rules}`. */
export interface RuleGroupLike {
  readonly name: string;
  readonly [key: string]: unknown;
  readonly rules: readonly Record<string, unknown>[];
}

/**
 * PromQL functions that promtool 2.42 knows and Prometheus 3.14 offers without a feature flag: the intersection of
 * both functions.go, minus the ones 3.14 marks Experimental. (holt_winters exists only in 2.x; 3.x renamed it
 * double_exponential_smoothing behind promql-experimental-functions.)
 */
export const COMMON_FUNCTIONS: ReadonlySet<string> = new Set(
  (
    "abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp clamp_max " +
    "clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month deg delta deriv exp floor " +
    "histogram_count histogram_fraction histogram_quantile histogram_sum hour idelta increase irate label_join " +
    "label_replace last_over_time ln max_over_time min_over_time minute month pi predict_linear present_over_time " +
    "quantile_over_time rad rate resets round scalar sgn sin sinh sort sort_desc sqrt stddev_over_time " +
    "stdvar_over_time sum_over_time tan tanh time timestamp vector year"
  ).split(" "),
);

/** Aggregation operators and keywords (not functions) that both versions parse the same. */
const KEYWORDS: ReadonlySet<string> = new Set(
  (
    "sum avg min max count stddev stdvar topk bottomk quantile count_values group by without on ignoring " +
    "group_left group_right bool and or unless offset"
  ).split(" "),
);

/** Rule-group keys both versions accept (query_offset came in 2.53, group labels in 3.x). */
const GROUP_KEYS: ReadonlySet<string> = new Set(["name", "interval", "limit", "rules"]);
/** Rule keys both versions accept (keep_firing_for came in 2.42.0 itself). */
const RULE_KEYS: ReadonlySet<string> = new Set([
  "alert",
  "record",
  "expr",
  "for",
  "keep_firing_for",
  "labels",
  "annotations",
]);

/**
 * The longest scrape interval of a series our rules read (the quality canary's ServiceMonitor: 30s). Since 3.0 a
 * range selector is left-open: `[d]` holds fewer samples than in 2.x when a sample sits on the left edge, so a
 * range under two intervals can hold a single sample in 3.x and rate() returns nothing where promtool saw two.
 */
export const LONGEST_SCRAPE_INTERVAL_SECONDS = 30;

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** "1h30m" -> 5400 seconds (undefined when not a duration). */
export function durationSeconds(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
}

/** The expression without its string literals (label values may hold "(" or "["). */
const withoutStrings = (expr: string) => expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');

/** The problems of one PromQL expression, each naming the feature and why it differs. */
export function exprProblems(expr: string): string[] {
  const out: string[] = [];
  const bare = withoutStrings(expr);
  for (const m of bare.matchAll(/\b([a-zA-Z_][a-zA-Z0-9_]*)\s*\(/g)) {
    const name = m[1]!;
    if (KEYWORDS.has(name) || COMMON_FUNCTIONS.has(name)) continue;
    out.push(
      `function ${name}(): not in both promtool 2.42 and Prometheus 3.x without a feature flag (limitk/limit_ratio, ` +
        `info, sort_by_label, mad_over_time, ... are 3.x-only or experimental; holt_winters is 2.x-only)`,
    );
  }
  // A metric name in quotes inside braces ({"my.metric"}) is 3.x UTF-8 syntax: 2.42 rejects it.
  if (/\{\s*"[^"]*"\s*(,|\})/.test(expr))
    out.push('a quoted metric name in a selector ({"name"}) is Prometheus 3.x UTF-8 syntax: promtool 2.42 rejects it');
  for (const m of bare.matchAll(/\[([^\]:]+)(?::([^\]]*))?\]/g)) {
    const range = durationSeconds(m[1]!.trim());
    if (range !== undefined && range < 2 * LONGEST_SCRAPE_INTERVAL_SECONDS)
      out.push(
        `range [${m[1]}] is under two scrape intervals (${2 * LONGEST_SCRAPE_INTERVAL_SECONDS}s): Prometheus 3.x ` +
          "range selectors are left-open and may hold one sample where 2.x held two",
      );
    const step = m[2] ? durationSeconds(m[2].trim()) : undefined;
    if (range !== undefined && step !== undefined && range < 2 * step)
      out.push(
        `subquery [${m[1]}:${m[2]}] spans under two steps: left-open in 3.x, it returns one point where 2.x could return two`,
      );
  }
  // Since 3.0 le and quantile label values are normalised on ingestion ("1" -> "1.0"): an exact match on the
  // 2.x spelling matches nothing in 3.x.
  for (const m of expr.matchAll(/\b(le|quantile)\s*(=|!=)\s*"([^"]*)"/g))
    if (!/^[+-]?Inf$/.test(m[3]!) && !/\.\d/.test(m[3]!) && !/e/i.test(m[3]!))
      out.push(
        `${m[1]}${m[2]}"${m[3]}": Prometheus 3.x normalises ${m[1]} label values to float form (e.g. "1.0"), 2.x keeps the exporter's spelling`,
      );
  return out;
}

/** Every problem of a rule file's groups, prefixed with the group and rule. Empty = means the same in both. */
export function prometheusCompatProblems(groups: readonly RuleGroupLike[]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    for (const key of Object.keys(g))
      if (!GROUP_KEYS.has(key))
        out.push(`group ${g.name}: key "${key}" is not read by promtool 2.42 (query_offset: 2.53+, labels: 3.x)`);
    for (const r of g.rules) {
      const id = `group ${g.name}, ${String(r.alert ?? r.record)}`;
      for (const key of Object.keys(r))
        if (!RULE_KEYS.has(key)) out.push(`${id}: key "${key}" is not a rule key of promtool 2.42`);
      if (typeof r.expr === "string") out.push(...exprProblems(r.expr).map((p) => `${id}: ${p}`));
    }
  }
  return out;
}
