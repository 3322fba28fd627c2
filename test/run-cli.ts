import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..");

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command as a separate process (bounded by a timeout) and collects its output. */
export function run(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout also stops what it started (tsx runs node as a child).
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      killGroup(child);
      reject(
        new Error(`${cmd} ${args.join(" ")} timed out after ${options.timeoutMs ?? 120_000} ms\n${stdout}\n${stderr}`),
      );
    }, options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that exits before reading its input closes the pipe: not an error of the test.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

/** `npm run plan -- ...` without npm's own chatter: tsx scripts/plan.ts ... */
export function plan(args: readonly string[]): Promise<ProcessResult> {
  return run(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "scripts", "plan.ts"), ...args]);
}

/** Kills a process started with `detached: true` and everything in its process group. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal); // the group is gone; the process itself may not be
  }
}

/**
 * A long-running process (a server) for a test: `stop()` kills its whole process group and waits for it to exit.
 * Call stop() in afterAll/finally so that it is stopped also when the test fails.
 */
export function startProcess(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(cmd, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once("exit", () => resolve());
  });
  return {
    child,
    stop: async () => {
      killGroup(child);
      await exited;
    },
  };
}
