import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ATTACKS, parseOptions } from "../scripts/measure-gateway-attacks";

/** `npm run measure:attacks`: which attacks and for how long; a CLI mistake prints usage and exits 2. */
const ROOT = path.resolve(__dirname, "..");

describe("measure:attacks options", () => {
  it("defaults to every attack and 20 s of the memory attack; --only picks some", () => {
    expect(parseOptions([])).toEqual({ only: [...ATTACKS], seconds: 20 });
    expect(parseOptions(["--only", "a, j", "--seconds", "5"])).toEqual({ only: ["a", "j"], seconds: 5 });
    expect(parseOptions(["--help"])).toBe("help");
  });

  it.each([
    [["--only", "a,z"], /--only takes letters among a,b,c,d,e,f,g,h,i,j,k, got "a,z"/],
    [["--only", ""], /--only takes letters/],
    [["--seconds", "120"], /--seconds must be a number from 5 to 30, got "120"/],
    [["--seconds", "soon"], /--seconds must be a number from 5 to 30/],
    [["--minutes", "2"], /Unknown option '--minutes'/],
    [["extra"], /positional argument/],
  ])("%j is refused with a message naming it", (argv, message) => {
    const r = parseOptions(argv);
    expect(r).toHaveProperty("error");
    expect((r as { error: string }).error).toMatch(message);
  });

  it("a mistake on the command line prints usage and exits 2, starting nothing", () => {
    const r = spawnSync(
      path.join(ROOT, "node_modules/.bin/tsx"),
      [path.join(ROOT, "scripts/measure-gateway-attacks.ts"), "--seconds", "120"],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--seconds must be a number from 5 to 30/);
    expect(r.stderr).toMatch(/usage: npm run measure:attacks -- \[--only a,b,\.\.\.,k\]/);
    expect(r.stdout).toBe("");
  });
});
