/**
 * Our images' tags: a hash of what they are built from. The ECR repositories are immutable, so a rebuild (which
 * @pulumi/docker does when any file of the build context changes) must come with a new tag, or the push fails.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BUILD_CONTEXT_SOURCES, REPO_ROOT, sourceHash } from "../components/build/project-image";

/** The paths the repository's .dockerignore lets into the build context (its `!path` lines, globs cut off). */
function dockerignoreAllowList(): string[] {
  return fs
    .readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("!"))
    .map((l) => l.slice(1).replace(/\/\*\*$/, ""));
}

describe("image tags follow the build context", () => {
  it("every path the build context lets in is hashed (or lies inside a hashed folder)", () => {
    const hashed = BUILD_CONTEXT_SOURCES as readonly string[];
    for (const p of dockerignoreAllowList())
      expect(
        hashed.some((h) => p === h || p.startsWith(`${h}/`)),
        `${p} is in the build context but not in BUILD_CONTEXT_SOURCES`,
      ).toBe(true);
  });

  it("a change to any hashed file is a new tag, the same files the same tag", () => {
    const dir = fs.mkdtempSync(path.join(REPO_ROOT, ".tmp-image-hash-"));
    try {
      const rel = path.relative(REPO_ROOT, dir);
      fs.mkdirSync(path.join(dir, "sub"));
      fs.writeFileSync(path.join(dir, "sub", "a.ts"), "export const a = 1;\n");
      const first = sourceHash([rel]);
      expect(sourceHash([rel])).toBe(first);
      fs.writeFileSync(path.join(dir, "sub", "a.ts"), "export const a = 2;\n");
      const second = sourceHash([rel]);
      expect(second).not.toBe(first);
      // A renamed file is a change too (paths are hashed with the contents).
      fs.renameSync(path.join(dir, "sub", "a.ts"), path.join(dir, "sub", "b.ts"));
      expect(sourceHash([rel])).not.toBe(second);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
