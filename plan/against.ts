// `--against <dir|git ref>`: the previous plan to compare with. A directory is a plan's out directory; a git ref is
// rendered by that ref's own scripts/plan.ts in a temporary `git worktree` (sharing this checkout's node_modules),
// removed afterwards.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PlanArgs } from "./args";
import { ROOT } from "./args";
import { diffPlans, readSnapshot, renderDiff, withDiff } from "./diff";
import { findLeakedPlaceholders } from "./redact";

export type AgainstResult = { ok: true; planMd: string; diffMd: string } | { ok: false; error: string };

const git = (args: string[], cwd = ROOT) => spawnSync("git", args, { cwd, encoding: "utf8" });

/** Renders the stack at a git ref into a temporary directory; returns that plan's out directory and checkout. */
export function renderAtRef(ref: string, args: PlanArgs, work: string): { out: string; root: string } {
  const tree = path.join(work, "tree");
  const add = git(["worktree", "add", "--detach", "--quiet", tree, ref]);
  if (add.status !== 0) throw new Error(`git worktree add ${ref}: ${add.stderr.trim()}`);
  try {
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");
    const out = path.join(work, "out");
    // The user's own stack file (outside the repo, or changed by them) is planned as is; a stack of stacks/ is the
    // ref's own version of it.
    const target = args.configFile ? ["--config-file", path.resolve(args.configFile)] : ["--stack", args.stack];
    const r = spawnSync(
      path.join(tree, "node_modules", ".bin", "tsx"),
      ["scripts/plan.ts", ...target, "--out", out, "--quiet"],
      {
        cwd: tree,
        encoding: "utf8",
        timeout: 600_000,
      },
    );
    if (r.status !== 0)
      throw new Error(
        `the plan at ${ref} failed (exit ${r.status}):\n${(r.stderr || r.stdout).trim().split("\n").slice(0, 20).join("\n")}`,
      );
    // The out directory is outside the worktree: it outlives the worktree's removal below.
    return { out, root: tree };
  } finally {
    git(["worktree", "remove", "--force", tree]);
    git(["worktree", "prune"]);
  }
}

function isGitRef(ref: string): boolean {
  return git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).status === 0;
}

export async function againstPlan(opts: {
  args: PlanArgs;
  outDir: string;
  files: ReadonlyMap<string, string>;
}): Promise<AgainstResult> {
  const { args, outDir } = opts;
  const against = args.against!;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "rs-plan-against-"));
  try {
    let beforeDir: string;
    let beforeRoot = ROOT;
    if (fs.existsSync(against) && fs.statSync(against).isDirectory()) beforeDir = against;
    else if (isGitRef(against)) ({ out: beforeDir, root: beforeRoot } = renderAtRef(against, args, work));
    else return { ok: false, error: `${against} is neither a plan directory nor a git ref (branch, tag, SHA)` };
    if (path.resolve(beforeDir) === path.resolve(outDir))
      return {
        ok: false,
        error: "the plan to compare with is the one being written; copy it elsewhere or use a git ref",
      };
    const diff = diffPlans(readSnapshot(beforeDir, beforeRoot), readSnapshot(outDir, ROOT));
    const diffMd = renderDiff(diff, against) + "\n";
    const leaks = findLeakedPlaceholders(diffMd);
    if (leaks.length) return { ok: false, error: `the diff would show secrets: ${leaks.join(", ")}` };
    const planMd = withDiff(opts.files.get("plan.md") ?? "", diffMd.trimEnd());
    fs.writeFileSync(path.join(outDir, "diff.md"), diffMd);
    fs.writeFileSync(path.join(outDir, "diff.json"), JSON.stringify(diff, null, 2) + "\n");
    fs.writeFileSync(path.join(outDir, "plan.md"), planMd);
    return { ok: true, planMd, diffMd };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
