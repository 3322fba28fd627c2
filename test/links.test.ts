// Every link a reader can follow resolves: in the README, in docs/ and in the plan.md that `npm run plan` writes
// for every stack. A link is a Markdown link (file and #anchor), a path reference in the text (docs/x.md#anchor)
// or a quoted README section ('README, "Secrets"'). plan.md once sent readers to README sections that did not exist.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { STACKS } from "./config-helpers";
import { ROOT } from "./run-cli";
import { sharedPlan } from "./shared-plans";

/** GitHub's heading anchor: lowercase, punctuation dropped (not "-" and "_"), spaces to "-". */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The text outside fenced code blocks (links in examples are not links). */
const prose = (md: string) => md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
/** Prose without inline code spans either (`[Runbook](...)` or another repository's `docs/install.md`). */
const plain = (md: string) => prose(md).replace(/`[^`]+`/g, "``");

/** Every anchor a Markdown file offers: its headings (GitHub numbers repeats -1, -2, ...) and explicit ids. */
export function anchorsOf(md: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of prose(md).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]!.replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1"));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  for (const m of md.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]!);
  return out;
}

/** The README's section titles, for references such as README, "Deploying for real". */
const headingsOf = (md: string) => new Set([...prose(md).matchAll(/^#{1,6}\s+(.+?)\s*$/gm)].map((m) => m[1]!.trim()));

/** Every broken link of one Markdown file at `file` (its links resolve from its folder, path references from the root). */
export function brokenLinks(file: string, md: string, root = ROOT): string[] {
  const out: string[] = [];
  const text = plain(md);
  const check = (target: string, from: string, what: string) => {
    const [p, anchor] = target.split("#") as [string, string | undefined];
    const resolved = p ? path.resolve(from, decodeURIComponent(p)) : file;
    if (p && !fs.existsSync(resolved)) return out.push(`${what}: ${target} (no file ${path.relative(root, resolved)})`);
    if (anchor === undefined || !resolved.endsWith(".md")) return;
    const anchors = resolved === file ? anchorsOf(md) : anchorsOf(fs.readFileSync(resolved, "utf8"));
    if (!anchors.has(anchor))
      out.push(`${what}: ${target} (no heading #${anchor} in ${path.relative(root, resolved)})`);
  };
  for (const m of text.matchAll(/(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^(https?:|mailto:)/.test(target)) continue;
    check(target, path.dirname(file), "link");
  }
  for (const m of text.matchAll(/(?<![\w/.(-])(docs\/[\w.-]+\.md(?:#[\w-]+)?)/g)) check(m[1]!, root, "path reference");
  const readmeHeadings = headingsOf(fs.readFileSync(path.join(root, "README.md"), "utf8"));
  for (const m of text.matchAll(/README,?\s+"([^"]+)"/g))
    if (!readmeHeadings.has(m[1]!)) out.push(`README section reference: "${m[1]}" (no such heading in README.md)`);
  return out;
}

const docs = [
  "README.md",
  ...fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

describe("links resolve", () => {
  it.each(docs)("%s", (file) => {
    const abs = path.join(ROOT, file);
    expect(brokenLinks(abs, fs.readFileSync(abs, "utf8"))).toEqual([]);
  });

  it.each(STACKS)("plan.md of stack %s", async (stack) => {
    const { out, result } = await sharedPlan(stack);
    expect(result.code, result.stderr).toBe(0);
    const file = path.join(out, "plan.md");
    expect(brokenLinks(file, fs.readFileSync(file, "utf8"))).toEqual([]);
  });

  it("finds a missing file, a missing anchor, a missing README section and skips code blocks (the check can fail)", () => {
    const file = path.join(ROOT, "docs", "example.md");
    const md = [
      "# Title",
      "See [deploying](deploying.md), [a section](deploying.md#no-such-section), [gone](nope.md) and [here](#title).",
      'Path references: docs/gpu-capacity.md and docs/deploying.md#nowhere; README, "Deploying for real".',
      "```bash",
      "[not a link](missing.md)",
      "```",
    ].join("\n");
    expect(brokenLinks(file, md)).toEqual([
      "link: deploying.md#no-such-section (no heading #no-such-section in docs/deploying.md)",
      "link: nope.md (no file docs/nope.md)",
      "path reference: docs/deploying.md#nowhere (no heading #nowhere in docs/deploying.md)",
      'README section reference: "Deploying for real" (no such heading in README.md)',
    ]);
    expect(slug("What `pulumi up` creates and needs".replace(/`/g, ""))).toBe("what-pulumi-up-creates-and-needs");
    expect(anchorsOf("## A\n## A\n")).toEqual(new Set(["a", "a-1"]));
  });
});
