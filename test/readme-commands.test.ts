// The commands the documentation shows run as written: every fenced ```bash block in README.md and docs/*.md whose
// preceding line is `<!-- tested -->` is run by bash in the checkout (set -euo pipefail, so every command in it must
// succeed). Mark only offline commands (npm run plan -- --stack local, --help, ...): nothing here may reach a cloud.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, run } from "./run-cli";

export const TESTED_MARK = "<!-- tested -->";

export interface TestedBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly script: string;
}

/** The ```bash blocks right after a `<!-- tested -->` line. */
export function testedBlocks(file: string, text: string): TestedBlock[] {
  const lines = text.split("\n");
  const out: TestedBlock[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!/^```(bash|sh)\s*$/.test(lines[i]!.trim()) || lines[i - 1]!.trim() !== TESTED_MARK) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === "```");
    if (end < 0) throw new Error(`${file}:${i + 1}: unterminated code block`);
    out.push({ file, line: i + 1, script: lines.slice(i + 1, end).join("\n") });
  }
  return out;
}

const docs = [
  "README.md",
  ...(fs.existsSync(path.join(ROOT, "docs"))
    ? fs
        .readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`)
    : []),
].filter((f) => fs.existsSync(path.join(ROOT, f)));
const blocks = docs.flatMap((f) => testedBlocks(f, fs.readFileSync(path.join(ROOT, f), "utf8")));

describe("the documentation's commands, as written", () => {
  it("finds the marked blocks (and only ```bash blocks right after the mark count)", () => {
    expect(blocks.length).toBeGreaterThan(0);
    const sample = ["<!-- tested -->", "```bash", "echo a", "```", "", "```bash", "echo b", "```"].join("\n");
    expect(testedBlocks("x.md", sample)).toEqual([{ file: "x.md", line: 2, script: "echo a" }]);
  });

  it("a failing command fails its block (the runner does not swallow errors)", async () => {
    const r = await run("bash", ["-c", `set -euo pipefail\nfalse\necho after`]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain("after");
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))(
    "%s",
    async (_where, block) => {
      const r = await run("bash", ["-c", `set -euo pipefail\n${block.script}`], { timeoutMs: 300_000 });
      expect(
        r.code,
        `${block.file}:${block.line} failed:\n${block.script}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
      ).toBe(0);
    },
    300_000,
  );
});
