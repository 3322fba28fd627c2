// docs/library.md documents every argument of every component the package exports, generated from the args
// interfaces' JSDoc (scripts/gen-library-docs.ts): the page is current, and the generation refuses an argument
// without a description or an optional one without its default.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { componentArgs, generatedLibraryDoc } from "../scripts/gen-library-docs";

const ROOT = path.join(__dirname, "..");

describe("docs/library.md: the component arguments", () => {
  const components = componentArgs();

  it("is current: npm run docs:library changes nothing", () => {
    const doc = fs.readFileSync(path.join(ROOT, "docs", "library.md"), "utf8");
    expect(doc === generatedLibraryDoc(doc, components), "docs/library.md is stale: run npm run docs:library").toBe(
      true,
    );
  });

  it("has a table for every exported component, a row for every argument with its default or 'required'", () => {
    expect(components.map((c) => c.component)).toEqual(
      expect.arrayContaining(["ModelService", "Ingress", "Observability", "Verification", "Cluster", "Keda"]),
    );
    const doc = fs.readFileSync(path.join(ROOT, "docs", "library.md"), "utf8");
    for (const c of components) {
      expect(doc).toContain(`### \`${c.component}\` (\`${c.argsType}\`)`);
      for (const r of c.rows) expect(r.default, `${c.argsType}.${r.name}`).not.toBe("");
    }
    const ms = components.find((c) => c.component === "ModelService")!;
    // Inherited arguments count too (GpuPlacement).
    expect(ms.rows.map((r) => r.name)).toEqual(expect.arrayContaining(["gpuInstanceType", "model", "peers"]));
    expect(ms.rows.find((r) => r.name === "model")!.default).toBe("required");
    expect(ms.rows.find((r) => r.name === "monitoring")!.default).toBe("true");
  });

  it("refuses a new argument without a description, or an optional one without @default, naming it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "library-docs-"));
    try {
      fs.writeFileSync(
        path.join(dir, "index.ts"),
        [
          "class ComponentResource { constructor(_t: string, _n: string) {} }",
          "export interface WidgetArgs {",
          "  /** Documented and required. */",
          "  readonly size: number;",
          "  readonly colour: string;",
          "  /** Optional, but its default is not said. */",
          "  readonly shape?: string;",
          "}",
          "export class Widget extends ComponentResource {",
          '  constructor(name: string, _args: WidgetArgs) { super("t:w:Widget", name); }',
          "}",
        ].join("\n"),
      );
      expect(() => componentArgs({ root: dir, entryPoints: ["index.ts"] })).toThrow(
        /WidgetArgs\.colour has no JSDoc description[\s\S]*WidgetArgs\.shape is optional and has no @default tag/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
