// Issue 24, "refused, but unclearly": a stack file the YAML reader refuses (alias bombs, undefined aliases, nesting
// that overflowed the stack) is refused with the file's line and column, the key it is under and a fix, in one
// line, never the reader's raw exception.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readStackFile, StackFileError } from "../plan/stack-file";
import { runPlan } from "../plan/run";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-file-"));
const write = (name: string, text: string) => {
  const file = path.join(dir, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, text);
  return file;
};
const HEAD = "config:\n  retrieval-stack:environment: local\n";

function refusal(file: string): StackFileError {
  try {
    readStackFile(file);
  } catch (e) {
    expect(e).toBeInstanceOf(StackFileError);
    return e as StackFileError;
  }
  throw new Error("expected the stack file to be refused");
}

describe("the YAML reader's refusals name line, key and fix", () => {
  it.each([
    [
      "an alias bomb",
      `${HEAD}  retrieval-stack:engines: &a [x, x, x, x, x, x, x, x, x, x]\n  retrieval-stack:verification: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n  retrieval-stack:models: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n`,
      4,
      /expand to more than 100 copies.*Fix: write the values out/,
    ],
    [
      "an undefined alias",
      `${HEAD}  retrieval-stack:models: *nothere\n`,
      3,
      /retrieval-stack:models has the alias \*nothere, and no anchor &nothere is defined before it\. Fix: /,
    ],
    [
      "nesting beyond the reader's stack",
      `${HEAD}  retrieval-stack:models: ${"[".repeat(5000)}${"]".repeat(5000)}\n`,
      3,
      /retrieval-stack:models is nested too deeply.*Fix: nest values at most 32 levels deep/,
    ],
    [
      "nesting the reader takes but the stack config never has",
      `${HEAD}  retrieval-stack:models: ${"[".repeat(200)}${"]".repeat(200)}\n`,
      3,
      /retrieval-stack:models(\[0\])+\S* is nested more than 32 levels deep.*Fix: /,
    ],
  ])("%s", (_name, text, line, says) => {
    const file = write(_name.replace(/\W+/g, "-"), text);
    const e = refusal(file);
    expect(e.position?.line).toBe(line);
    expect(e.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${line}:\\d+: `));
    expect(e.message).toMatch(says);
    expect(e.message).not.toMatch(/Maximum call stack size exceeded$|\n/);
    expect(e.message.length).toBeLessThan(600);
  });

  it("the plan reports the refusal in its one line, not the reader's exception", async () => {
    const file = write("plan-undef", `${HEAD}  retrieval-stack:models: *nothere\n`);
    const result = await runPlan({ stack: "plan-undef", configFile: file, outDir: path.join(dir, "out") });
    expect(result.ok).toBe(false);
    expect(result.errors.join("\n")).toMatch(/:3:\d+: retrieval-stack:models has the alias \*nothere.*Fix: /);
  });
});
