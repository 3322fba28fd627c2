// `npx tsx scripts/dead-exports.ts`: exported symbols of components/ and images/ that no other file imports.
// Such an export is either dead code or a name that should not be exported. The package's public entry points
// (package.json "exports": components/index.ts, components/serving/index.ts) and every module they re-export from
// count as used. The scan reads import and export declarations with the TypeScript parser (no type check), so it
// takes a second: `import * as x`, `export * from`, `import("...")` (a call or a type) and `require("...")` of one of our modules count
// every export of that module as used (a conservative reading: it never reports a name that is used).
// test/dead-exports.test.ts fails on any export it lists.
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");
/** Folders whose exports are checked. */
export const CHECKED = ["components", "images"];
/** Folders whose imports count as uses (everything of ours). */
const READ = [
  "components",
  "images",
  "test",
  "scripts",
  "plan",
  "policy",
  "index.ts",
  "vitest.config.mts",
  "eslint.config.mjs",
];
/** The package's public entry points: they and everything they re-export are the library's API. */
export const PUBLIC_ENTRY_POINTS = ["components/index.ts", "components/serving/index.ts"];
const SKIP_DIRS = new Set(["node_modules", "dist", "out"]);
const SOURCE = /\.(ts|mts|js|mjs)$/;

function listFiles(root: string, rel: string): string[] {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return [];
  if (fs.statSync(abs).isFile()) return SOURCE.test(rel) && !rel.endsWith(".d.ts") ? [rel] : [];
  return fs
    .readdirSync(abs, { withFileTypes: true })
    .filter((e) => !SKIP_DIRS.has(e.name))
    .flatMap((e) => listFiles(root, path.join(rel, e.name)));
}

/** The file a relative module specifier names, if it is one of ours. */
function resolve(from: string, spec: string, known: Set<string>): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = path.normalize(path.join(path.dirname(from), spec));
  const stripped = base.replace(/\.(js|ts)$/, "");
  for (const c of [base, `${stripped}.ts`, `${stripped}.js`, `${stripped}/index.ts`, `${stripped}/index.js`])
    if (known.has(c)) return c;
  return undefined;
}

interface ModuleInfo {
  /** Names this module exports (declarations and `export { x }` lists; not `export *`). */
  readonly exports: Map<string, number>;
  /** Named imports and re-exports: target file -> names. */
  readonly named: Map<string, Set<string>>;
  /** Modules of which every export counts as used (namespace imports, export *, dynamic import, require). */
  readonly whole: Set<string>;
  /** `export * from` targets (for the public API's closure). */
  readonly star: Set<string>;
  /** `export { a } from` targets with their names (for the public API's closure). */
  readonly reexports: Map<string, Set<string>>;
}

const hasExport = (n: ts.Node) =>
  ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

function read(root: string, file: string, known: Set<string>): ModuleInfo {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const info: ModuleInfo = {
    exports: new Map(),
    named: new Map(),
    whole: new Set(),
    star: new Set(),
    reexports: new Map(),
  };
  const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
  const use = (target: string, name: string) => {
    if (!info.named.has(target)) info.named.set(target, new Set());
    info.named.get(target)!.add(name);
  };
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const target = resolve(file, n.moduleSpecifier.text, known);
      const b = n.importClause?.namedBindings;
      if (target && b && ts.isNamespaceImport(b)) info.whole.add(target);
      else if (target && b && ts.isNamedImports(b))
        for (const e of b.elements) use(target, (e.propertyName ?? e.name).text);
      if (target && n.importClause?.name) use(target, "default");
    } else if (ts.isExportDeclaration(n)) {
      const target =
        n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)
          ? resolve(file, n.moduleSpecifier.text, known)
          : undefined;
      if (!n.exportClause) {
        if (target) {
          info.whole.add(target);
          info.star.add(target);
        }
      } else if (ts.isNamedExports(n.exportClause)) {
        for (const e of n.exportClause.elements) {
          info.exports.set(e.name.text, line(e));
          if (target) {
            use(target, (e.propertyName ?? e.name).text);
            if (!info.reexports.has(target)) info.reexports.set(target, new Set());
            info.reexports.get(target)!.add((e.propertyName ?? e.name).text);
          }
        }
      } else if (target) info.whole.add(target); // export * as ns from
    } else if (hasExport(n)) {
      if (ts.isVariableStatement(n))
        for (const d of n.declarationList.declarations) {
          if (ts.isIdentifier(d.name)) info.exports.set(d.name.text, line(d));
        }
      else if (
        (ts.isFunctionDeclaration(n) ||
          ts.isClassDeclaration(n) ||
          ts.isInterfaceDeclaration(n) ||
          ts.isTypeAliasDeclaration(n) ||
          ts.isEnumDeclaration(n)) &&
        n.name
      )
        info.exports.set(n.name.text, line(n));
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      // typeof import("./x"): the type of the whole module.
      const target = resolve(file, n.argument.literal.text, known);
      if (target) info.whole.add(target);
    } else if (
      ts.isCallExpression(n) &&
      n.arguments.length === 1 &&
      ts.isStringLiteralLike(n.arguments[0]!) &&
      (n.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(n.expression) && n.expression.text === "require"))
    ) {
      const target = resolve(file, n.arguments[0].text, known);
      if (target) info.whole.add(target);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return info;
}

export interface DeadExport {
  readonly file: string;
  readonly line: number;
  readonly name: string;
}

/** Exports of components/ and images/ that nothing imports, outside the public API. */
export function deadExports(root = ROOT): DeadExport[] {
  const files = READ.flatMap((r) => listFiles(root, r));
  const known = new Set(files);
  const modules = new Map(files.map((f) => [f, read(root, f, known)]));

  // The public API: the entry points' exports, and what they re-export, transitively.
  const publicNames = new Map<string, Set<string> | "all">();
  const markPublic = (file: string, names: Set<string> | "all") => {
    const had = publicNames.get(file);
    if (had === "all") return;
    const next = names === "all" ? "all" : new Set([...(had ?? []), ...names]);
    if (had && next !== "all" && next.size === had.size) return;
    publicNames.set(file, next);
    const m = modules.get(file);
    if (!m) return;
    for (const t of m.star) markPublic(t, "all");
    for (const [t, ns] of m.reexports) markPublic(t, ns);
  };
  for (const e of PUBLIC_ENTRY_POINTS) markPublic(e, "all");

  const used = new Map<string, Set<string>>();
  const whole = new Set<string>();
  for (const [file, m] of modules) {
    for (const [target, names] of m.named) {
      if (target === file) continue;
      if (!used.has(target)) used.set(target, new Set());
      for (const n of names) used.get(target)!.add(n);
    }
    for (const t of m.whole) if (t !== file) whole.add(t);
  }

  const dead: DeadExport[] = [];
  for (const [file, m] of modules) {
    if (!CHECKED.some((d) => file.startsWith(`${d}/`)) || whole.has(file)) continue;
    const pub = publicNames.get(file);
    if (pub === "all") continue;
    for (const [name, line] of m.exports)
      if (!used.get(file)?.has(name) && !pub?.has(name)) dead.push({ file, line, name });
  }
  return dead.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

if (require.main === module) {
  const dead = deadExports();
  for (const d of dead) console.log(`${d.file}:${d.line} ${d.name}`);
  console.log(`${dead.length} exports nothing imports`);
}
