// No export of components/ or images/ that nothing imports (scripts/dead-exports.ts): the package ships no dead
// export, and a name used only in its own file is not exported. The public entry points (components/index.ts,
// components/serving/index.ts) and what they re-export are the library's API and count as used.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { deadExports } from "../scripts/dead-exports";

describe("dead exports", () => {
  it("components/ and images/ export nothing that no other file imports", () => {
    const dead = deadExports().map((d) => `${d.file}:${d.line} ${d.name}`);
    expect(dead, "remove these or stop exporting them (npx tsx scripts/dead-exports.ts)").toEqual([]);
  });

  it("finds a new dead export, and counts imports, re-exports of the public API and whole-module imports as uses", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "dead-exports-"));
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    };
    try {
      write(
        "components/widget.ts",
        [
          "export const imported = 1;",
          "export function onlyHere() { return 2; }",
          "export const reexported = onlyHere();",
          "export interface Unused { readonly x: number }",
        ].join("\n"),
      );
      write("components/whole.ts", "export const a = 1;\nexport const b = 2;\n");
      write("components/index.ts", 'export { reexported } from "./widget";\n');
      write("components/serving/index.ts", "export {};\n");
      write("images/app/src/main.ts", 'import * as whole from "../../../components/whole";\nvoid whole;\n');
      write("test/widget.test.ts", 'import { imported } from "../components/widget";\nvoid imported;\n');
      expect(deadExports(root).map((d) => `${d.file}:${d.line} ${d.name}`)).toEqual([
        "components/widget.ts:2 onlyHere",
        "components/widget.ts:4 Unused",
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
