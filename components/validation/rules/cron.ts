/**
 * Whether a 5-field cron expression (already accepted by serving/schedule.ts) can ever fire. With the day of week
 * left at "*", robfig/cron (KEDA's parser) fires only on the listed days of the month, so "0 8 31 2 *" (31
 * February) never fires and a scale-to-zero model would never wake. With a day of week given, the days are ORed
 * and some day always matches. Pure.
 */

/** Longest month lengths (February 29 in leap years), January first. */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function expand(field: string, min: number, max: number, names: readonly string[] = []): Set<number> {
  const out = new Set<number>();
  const num = (t: string) => (/^\d+$/.test(t) ? Number(t) : min + names.indexOf(t.toLowerCase()));
  for (const part of field.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText ? Number(stepText) : 1;
    const [lo, hi] =
      range === "*" || range === "?"
        ? [min, max]
        : range!.includes("-")
          ? range!.split("-").map(num)
          : [num(range!), stepText ? max : num(range!)];
    for (let v = lo!; v <= hi!; v += step) out.add(v);
  }
  return out;
}

/** Why the expression can never fire, or undefined when some day matches. */
export function cronNeverFires(expr: string): string | undefined {
  const [, , dom, month, dow] = expr.trim().split(/\s+/);
  if (!dom || !month || (dow !== "*" && dow !== "?")) return undefined;
  const days = expand(dom, 1, 31);
  const months = expand(month, 1, 12, MONTH_NAMES);
  const possible = [...months].some((mo) => [...days].some((d) => d <= DAYS_IN_MONTH[mo - 1]!));
  if (possible) return undefined;
  return `day ${[...days].join(",")} does not exist in month ${[...months].join(",")}`;
}
