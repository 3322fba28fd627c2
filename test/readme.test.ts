import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, run } from "./run-cli";

// The README as a newcomer uses it: its stack example plans, its library example is the tested one, its links open.
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

function firstBlock(markdown: string, lang: string): string {
  const block = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(markdown);
  if (!block) throw new Error(`no \`\`\`${lang} block`);
  return block[1]!;
}

describe("README", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "readme-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("'your own stack in ten lines' is a stack file that plans as written", async () => {
    const stackFile = path.join(dir, "Pulumi.search.yaml");
    fs.writeFileSync(stackFile, firstBlock(README, "yaml"));
    const r = await run("npx", ["tsx", "scripts/plan.ts", "--config-file", stackFile, "--out", path.join(dir, "out")], {
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const manifests = fs.readdirSync(path.join(dir, "out", "manifests"), { recursive: true }).map(String);
    // Both models of the example are rendered as workloads.
    expect(manifests.some((f) => /deployment-bge-large-zh\.yaml$/.test(f))).toBe(true);
    expect(manifests.some((f) => /deployment-reranker\.yaml$/.test(f))).toBe(true);
  });

  it("the library example is the one test/library.test.ts runs (docs/library.md's block)", () => {
    const docs = fs.readFileSync(path.join(ROOT, "docs", "library.md"), "utf8");
    expect(firstBlock(README, "ts")).toBe(firstBlock(docs, "ts"));
  });

  it("every relative link points to a file of the repository", () => {
    const links = [...README.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^https?:/.test(l));
    expect(links.length).toBeGreaterThan(10);
    const missing = links.filter((l) => !fs.existsSync(path.join(ROOT, l)));
    expect(missing).toEqual([]);
  });

  it("gives the two commands of a fresh machine", () => {
    expect(README).toContain("npm ci && npm run plan -- --stack local");
    expect(README).toContain("npm ci && npm test");
  });
});
