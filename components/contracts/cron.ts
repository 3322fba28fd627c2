/**
 * The one cron parser: a working-hours schedule (autoscaling.activeHours) read as KEDA's cron scaler reads it.
 * Config validation uses it so that a schedule KEDA would refuse (or read differently, or that never fires) fails
 * at config time, not as a ScaledObject error in the cluster; the canary uses it to know whether a model is inside
 * its window (images/canary/src/active-hours.ts).
 *
 * KEDA's cron scaler (keda.sh/docs/2.18/scalers/cron, pkg/scalers/cron_scaler.go, read 2026-11) takes `timezone`
 * (IANA Time Zone Database name, loaded with Go's time.LoadLocation), `start` and `end` ("Linux format cron":
 * minute hour day-of-month month day-of-week, parsed by robfig/cron's standard parser) and `desiredReplicas`;
 * start and end must differ. Pure: no I/O (a contract of components/contracts).
 */

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names robfig/cron accepts for the values (case-insensitive), e.g. JAN = 1, SUN = 0. */
  readonly names?: readonly string[];
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** robfig/cron's bounds: day-of-week is 0-6 (Sunday = 0; 7 is refused). */
const FIELDS: readonly CronField[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day of week", min: 0, max: 6, names: DAYS },
];

/** The fix every cron problem names. */
export const CRON_FIX =
  'Fix: write the 5 fields minute hour day-of-month month day-of-week, e.g. "0 8 * * 1-5" (08:00 Monday to Friday).';

function value(text: string, field: CronField): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n < field.min || n > field.max ? `${text} is outside ${field.min}-${field.max} for the ${field.name}` : n;
  }
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return field.min + named;
  return `"${text}" is not a number${field.names ? ` or a name (${field.names[0]!.toUpperCase()}...)` : ""} for the ${field.name}`;
}

/** One comma-separated part: `*`, `?`, `a`, `a-b`, each optionally `/step`. Returns a problem or undefined. */
function partProblem(part: string, field: CronField): string | undefined {
  const [range, step, extra] = part.split("/");
  if (extra !== undefined || range === "" || range === undefined)
    return `"${part}" is not a value, a range or a step for the ${field.name}`;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0))
    return `step "${step}" in "${part}" must be a positive number`;
  if (range === "*" || range === "?") return undefined;
  const bounds = range.split("-");
  if (bounds.length > 2) return `"${range}" is not a range a-b for the ${field.name}`;
  const values = bounds.map((b) => value(b, field));
  const bad = values.find((v) => typeof v === "string");
  if (bad !== undefined) return bad as string;
  if (values.length === 2 && (values[0] as number) > (values[1] as number))
    return `range "${range}" runs backwards for the ${field.name}`;
  return undefined;
}

/**
 * Why a cron expression is not one KEDA's cron scaler accepts as a 5-field schedule, or undefined when it is.
 * Descriptors (@daily) and a CRON_TZ= prefix are refused too: the window needs explicit times, and the time zone
 * has its own field.
 */
export function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (expr.trim().startsWith("@")) return `the descriptor ${expr.trim().split(/\s/)[0]} gives no explicit time`;
  if (/^(CRON_)?TZ=/.test(expr.trim())) return "a time zone prefix: the time zone belongs in activeHours.timezone";
  if (fields.length !== 5)
    return `${fields.length === 1 && fields[0] === "" ? "no" : fields.length} field(s) where it takes 5`;
  for (let i = 0; i < 5; i++) {
    for (const part of fields[i]!.split(",")) {
      const problem = partProblem(part, FIELDS[i]!);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** The values one field allows (assumes cronProblem found nothing: numbers or names, ranges, steps, `*`). */
function fieldValues(text: string, field: CronField): Set<number> {
  const out = new Set<number>();
  const num = (t: string) => value(t, field) as number;
  for (const part of text.split(",")) {
    const [range = "*", stepText] = part.split("/");
    const step = stepText ? Number(stepText) : 1;
    const [lo, hi] =
      range === "*" || range === "?"
        ? [field.min, field.max]
        : range.includes("-")
          ? (range.split("-").map(num) as [number, number])
          : [num(range), stepText ? field.max : num(range)];
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** A valid 5-field expression as the set of values of each field: minute, hour, day of month, month, day of week. */
type CronSchedule = readonly [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];

const parsed = new Map<string, CronSchedule>();
/** The schedule of a valid expression (cronProblem(expr) === undefined), parsed once per expression. */
function parseCron(expr: string): CronSchedule {
  let s = parsed.get(expr);
  if (!s) {
    const fields = expr.trim().split(/\s+/);
    s = FIELDS.map((f, i) => fieldValues(fields[i]!, f)) as unknown as CronSchedule;
    parsed.set(expr, s);
  }
  return s;
}

/**
 * Whether a valid expression fires at the given minute, hour, day of month, month (1-12) and day of week
 * (0 = Sunday). Every field must match, as in the canary's reading of KEDA's window.
 */
export function cronFires(expr: string, at: readonly [number, number, number, number, number]): boolean {
  const s = parseCron(expr);
  return at.every((v, i) => s[i]!.has(v));
}

/** Longest month lengths (February 29 in leap years), January first. */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Why a valid expression can never fire, or undefined when some day matches. With the day of week left at "*",
 * robfig/cron (KEDA's parser) fires only on the listed days of the month, so "0 8 31 2 *" (31 February) never
 * fires and a scale-to-zero model would never wake. With a day of week given, the days are ORed and some day
 * always matches.
 */
export function cronNeverFires(expr: string): string | undefined {
  const dow = expr.trim().split(/\s+/)[4];
  if (dow !== "*" && dow !== "?") return undefined;
  const [, , days, months] = parseCron(expr);
  const possible = [...months].some((mo) => [...days].some((d) => d <= DAYS_IN_MONTH[mo - 1]!));
  if (possible) return undefined;
  return `day ${[...days].join(",")} does not exist in month ${[...months].join(",")}`;
}

/** IANA names: segments start with a capital letter (America/Port-au-Prince, Etc/GMT-8, UTC). No offsets ("+08:00"). */
const IANA_SHAPE = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/;

/**
 * Why `tz` is not an IANA time zone name that KEDA (Go's time.LoadLocation) can load, or undefined when it is.
 * Node's ICU data is the reference: a name it does not know is refused. Case matters to Go (zoneinfo files), so
 * "asia/shanghai" is refused with the right spelling; "Local" (the operator's own zone) is refused.
 */
export function timezoneProblem(tz: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return `is not an IANA time zone name. Fix: use a name such as "Asia/Shanghai", "Europe/Berlin" or "UTC" (list: https://en.wikipedia.org/wiki/List_of_tz_database_time_zones).`;
  }
  if (tz !== resolved && tz.toLowerCase() === resolved.toLowerCase())
    return `is spelled "${resolved}" in the IANA database (KEDA matches names case-sensitively). Fix: timezone: ${resolved}.`;
  if (!IANA_SHAPE.test(tz))
    return `is not an IANA time zone name (KEDA loads names, not offsets). Fix: use a name such as "Asia/Shanghai"${resolved !== tz ? ` (this one resolves to "${resolved}")` : ""}.`;
  return undefined;
}
