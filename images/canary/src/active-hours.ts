/**
 * Is a scale-to-zero model inside its working hours (autoscaling.activeHours) right now? Reads the window the way
 * KEDA's cron scaler keeps it open: from the latest `start` occurrence until the next `end` occurrence, in the
 * window's IANA time zone. The canary skips a model outside its window, so its calls never meet a model that is
 * meant to be at zero (and never count as demand). Pure: the clock is an argument.
 */
import type { ActiveHours } from "../../../components/config/serving";
import { cronFires } from "../../../components/contracts/cron";

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** Minute, hour, day of month, month (1-12) and day of week (0 = Sunday) of `date` in `timeZone`. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function partsIn(date: Date, timeZone: string): number[] {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      minute: "numeric",
      hour: "numeric",
      day: "numeric",
      month: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(date).map((x) => [x.type, x.value]));
  return [
    Number(p.minute),
    Number(p.hour),
    Number(p.day),
    Number(p.month),
    DAYS.indexOf(String(p.weekday).slice(0, 3).toLowerCase()),
  ];
}

/** Whether a valid 5-field cron expression fires in the minute `date` falls in (in `timeZone`). */
export function cronMatches(expr: string, date: Date, timeZone: string): boolean {
  return cronFires(expr, partsIn(date, timeZone) as [number, number, number, number, number]);
}

/** Look back at most this far for the last start/end (a weekly schedule repeats within 7 days). */
const LOOKBACK_MINUTES = 8 * 24 * 60;

/** True when the latest `start` occurrence at or before `now` is more recent than the latest `end`. */
export function withinActiveHours(hours: ActiveHours, now: Date): boolean {
  const t = Math.floor(now.getTime() / 60_000) * 60_000;
  for (let i = 0; i <= LOOKBACK_MINUTES; i++) {
    const at = new Date(t - i * 60_000);
    if (cronMatches(hours.end, at, hours.timezone)) return false;
    if (cronMatches(hours.start, at, hours.timezone)) return true;
  }
  return false;
}
