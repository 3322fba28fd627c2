import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ProcessInfo {
  readonly pid: number;
  readonly cwd: string;
  readonly cmdline: string;
  /** Start time, ms since the epoch. */
  readonly startedAt: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const bootTimeMs = () => Date.now() - os.uptime() * 1000;

/**
 * The environment variable a test run marks its processes with: every process the suite starts inherits it, so
 * the teardown can tell them from anything else running in the checkout (an editor, another run, a shell).
 */
export const RUN_MARKER = "RETRIEVAL_STACK_TEST_RUN";

function carriesMarker(pid: number, run: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`${RUN_MARKER}=${run}`);
  } catch {
    return false;
  }
}

/**
 * Processes (Linux /proc) with their working directory in `root`, started at or after `since` (ms since epoch),
 * and, when `run` is given, marked as started by that test run.
 */
export function processesIn(root: string, since: number, run?: string): ProcessInfo[] {
  if (!fs.existsSync("/proc/self/stat")) return [];
  const boot = bootTimeMs();
  const out: ProcessInfo[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      if (cwd !== root && !cwd.startsWith(root + path.sep)) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces) start at ") "; starttime is field 22.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue; // a zombie is already dead
      const startedAt = boot + (Number(fields[19]) / TICKS_PER_SECOND) * 1000;
      // /proc's start time is in ticks since boot, uptime in seconds: allow a second of slack.
      if (startedAt < since - 1000) continue;
      if (run !== undefined && !carriesMarker(pid, run)) continue;
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      out.push({ pid, cwd, cmdline, startedAt });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** This process and its ancestors (the shell, npm, npx that started the run). */
function ancestors(): Set<number> {
  const out = new Set<number>();
  for (let pid: number | undefined = process.pid; pid && pid > 1 && !out.has(pid); pid = parentOf(pid)) out.add(pid);
  return out;
}

/** Processes started by the run that are still alive when it ends, except the run's own (ancestors, workers). */
export function survivingProcesses(root: string, since: number, run: string): ProcessInfo[] {
  const mine = ancestors();
  return processesIn(root, since, run).filter(
    // Vitest's own helpers: its workers, and (vitest 5) the watchdog that outlives the run by design to clean up
    // after it, which renames itself "vitest-watchdog".
    (p) => !mine.has(p.pid) && !/node_modules\/(vitest|tinypool)\//.test(p.cmdline) && p.cmdline !== "vitest-watchdog",
  );
}
