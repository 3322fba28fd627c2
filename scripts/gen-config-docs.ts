// `npm run docs:config`: generates, from the zod schemas (components/config) and the catalogues,
//   docs/stack-config.schema.json  JSON Schema of a stacks/Pulumi.<stack>.yaml (editors complete and check keys)
//   docs/config-reference.md       every key of every section: type, default, description
//   docs/models.md                 the model catalogue: task, dims, max tokens and the engines that serve each model
// `--check` writes nothing and exits 1 when a file is stale (test/config-docs.test.ts runs the same comparison).
// Sections are read from PLATFORM_SECTIONS, so a new section appears without touching this script. Descriptions come
// from `.meta({ description })`; a field without one falls back to its JSDoc comment in components/config.
import * as fs from "node:fs";
import * as path from "node:path";
import * as prettier from "prettier";
import * as ts from "typescript";
import { z } from "zod";
import { CONFIG_NAMESPACE, PLATFORM_SECTIONS, ModelConfigSchema, SecretsSchema } from "../components/config";
import { MODEL_CATALOGUE } from "../components/serving/models";
import { ENGINE_ADAPTERS } from "../components/serving/engines";
import { GPU_INSTANCE_TYPES } from "../components/cluster/instances";

const ROOT = path.resolve(__dirname, "..");
const CONFIG_DIR = path.join(ROOT, "components", "config");

type Json = { [key: string]: unknown };
type JsonSchema = Json & {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  required?: string[];
};

/** JSDoc of every property of every object literal in components/config, by the literal's sorted key set. */
function jsdocByKeys(): Map<string, { own?: string; props: Record<string, string> }> {
  const out = new Map<string, { own?: string; props: Record<string, string> }>();
  for (const file of fs.readdirSync(CONFIG_DIR).filter((f) => f.endsWith(".ts"))) {
    const text = fs.readFileSync(path.join(CONFIG_DIR, file), "utf8");
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const docOf = (node: ts.Node) => {
      const ranges = (ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []).filter(
        (r) => text.slice(r.pos, r.pos + 3) === "/**",
      );
      if (!ranges.length) return undefined;
      // The nearest comment only: a stray comment above it belongs to another field.
      return ranges
        .slice(-1)
        .map((r) => text.slice(r.pos + 3, r.end - 2))
        .join(" ")
        .split("\n")
        .map((l) => l.replace(/^\s*\*\s?/, "").trim())
        .join(" ")
        .replace(/\s+/g, " ")
        .trim();
    };
    const visit = (node: ts.Node) => {
      if (ts.isObjectLiteralExpression(node) && ts.isCallExpression(node.parent)) {
        const props: Record<string, string> = {};
        const keys: string[] = [];
        for (const p of node.properties) {
          if (!ts.isPropertyAssignment(p)) continue;
          const key = p.name.getText(sf).replace(/^["']|["']$/g, "");
          keys.push(key);
          const doc = docOf(p);
          if (doc) props[key] = doc;
        }
        const statement = ts.findAncestor(node, ts.isVariableStatement);
        const own = statement && ts.findAncestor(node.parent, ts.isVariableDeclaration) ? docOf(statement) : undefined;
        out.set([...keys].sort().join(","), { own, props });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** Fills missing descriptions of object properties (and objects) from their JSDoc. */
function addJsdoc(node: unknown, docs: ReturnType<typeof jsdocByKeys>): void {
  if (Array.isArray(node)) return node.forEach((n) => addJsdoc(n, docs));
  if (!node || typeof node !== "object") return;
  const s = node as JsonSchema;
  if (s.properties) {
    const found = docs.get(Object.keys(s.properties).sort().join(","));
    if (found) {
      if (found.own && !s.description) s.description = found.own;
      for (const [key, prop] of Object.entries(s.properties))
        if (found.props[key] && !prop.description) prop.description = found.props[key];
    }
  }
  for (const v of Object.values(s)) addJsdoc(v, docs);
}

function sectionSchema(schema: z.ZodType, docs: ReturnType<typeof jsdocByKeys>): JsonSchema {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  delete json.$schema;
  if (json.$defs) throw new Error("a section schema has $defs: merge them into the stack file schema");
  addJsdoc(json, docs);
  return json;
}

const SECRET_DESCRIPTION =
  "Secret: set it with `pulumi config set --secret`; the stack file holds only the encrypted value.";

/** The JSON Schema of a Pulumi stack file of this project: `config:` with `retrieval-stack:<section>` keys. */
export function stackFileSchema(): JsonSchema {
  const docs = jsdocByKeys();
  const properties: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(PLATFORM_SECTIONS)) {
    if (name === "secrets") continue; // stored as top-level secret keys, below
    properties[`${CONFIG_NAMESPACE}:${name}`] = sectionSchema(schema as z.ZodType, docs);
  }
  const secrets = sectionSchema(SecretsSchema, docs).properties ?? {};
  for (const [key, value] of Object.entries(secrets))
    properties[`${CONFIG_NAMESPACE}:${key}`] = {
      description: [value.description, SECRET_DESCRIPTION].filter(Boolean).join(" "),
      type: "object",
      properties: {
        secure: {
          type: "string",
          minLength: 1,
          description: "The encrypted value that `pulumi config set --secret` writes.",
        },
      },
      required: ["secure"],
      additionalProperties: false,
    };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "retrieval-stack stack file (stacks/Pulumi.<stack>.yaml)",
    description: "Generated from components/config by scripts/gen-config-docs.ts; see docs/config-reference.md.",
    type: "object",
    properties: {
      config: {
        type: "object",
        properties,
        required: [`${CONFIG_NAMESPACE}:environment`, `${CONFIG_NAMESPACE}:cluster`, `${CONFIG_NAMESPACE}:models`],
        // Keys of other namespaces (aws:region, pulumi:tags) are Pulumi's and their providers'; a key of this
        // namespace that is not listed above, or a key without a namespace, is a mistake.
        patternProperties: { [`^(?!${CONFIG_NAMESPACE}:)[A-Za-z0-9_.-]+:.+$`]: {} },
        additionalProperties: false,
      },
    },
  };
}

// ---- config-reference.md ----

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alts = s.oneOf ?? s.anyOf;
  if (alts && alts.every((a) => a.properties)) {
    const tag = Object.keys(alts[0]!.properties!).find((k) => alts.every((a) => a.properties![k]?.const));
    if (tag) return `mapping, by ${tag}: ${alts.map((a) => JSON.stringify(a.properties![tag]!.const)).join(" | ")}`;
  }
  if (alts) return alts.map(typeOf).join(" or ");
  switch (s.type) {
    case "integer":
    case "number":
      return `${s.type}${bounds(s)}`;
    case "string":
      return s.format ? `string (${String(s.format)})` : "string";
    case "boolean":
      return "boolean";
    case "array":
      return `list of ${s.items ? typeOf(s.items) : "values"}`;
    case "object":
      if (s.properties) return "mapping";
      if (s.additionalProperties && typeof s.additionalProperties === "object")
        return `map of name → ${typeOf(s.additionalProperties)}`;
      return "mapping";
    default:
      return "any";
  }
}

/** "1..1000", "> 0", ">= 0.1, <= 0.95": the bounds a number takes (JavaScript's safe-integer limits left out). */
function bounds(s: JsonSchema): string {
  const safe = (v: unknown) => v !== undefined && Math.abs(Number(v)) < Number.MAX_SAFE_INTEGER;
  const n = (v: unknown) => (Number.isInteger(v) ? String(v) : String(Number(Number(v).toPrecision(4))));
  const parts = [
    safe(s.minimum) ? `>= ${n(s.minimum)}` : safe(s.exclusiveMinimum) ? `> ${n(s.exclusiveMinimum)}` : "",
    safe(s.maximum) ? `<= ${n(s.maximum)}` : safe(s.exclusiveMaximum) ? `< ${n(s.exclusiveMaximum)}` : "",
  ].filter(Boolean);
  if (parts.length === 2 && safe(s.minimum) && safe(s.maximum)) return ` (${n(s.minimum)}..${n(s.maximum)})`;
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function defaultOf(s: JsonSchema): string {
  if (s.default === undefined) return "";
  const text = JSON.stringify(s.default);
  if (text.length > 40 && typeof s.default === "object") return "(see keys)";
  return code(text);
}

interface Row {
  readonly key: string;
  readonly type: string;
  readonly def: string;
  readonly description: string;
}

function rows(s: JsonSchema, prefix: string, requiredHere: boolean, out: Row[], note = "", self = true): void {
  const required = requiredHere && s.default === undefined ? "**Required.** " : "";
  const ownRow = () => {
    if (prefix && self)
      out.push({
        key: prefix,
        type: typeOf(s),
        def: defaultOf(s),
        description: `${note}${required}${s.description ?? ""}`,
      });
  };
  const alts = s.oneOf ?? s.anyOf;
  if (alts && alts.every((a) => a.properties)) {
    // A discriminated union: its own row, then the keys of each variant, named by its discriminator.
    ownRow();
    const discriminator = Object.keys(alts[0]!.properties!).find((k) => alts.every((a) => a.properties![k]?.const));
    for (const a of alts) {
      const tag = discriminator ? `${discriminator}: ${String(a.properties![discriminator]!.const)}` : "variant";
      rows(a, prefix, requiredHere, out, `${note}(${tag}) `, false);
    }
    return;
  }
  ownRow();
  const child = (key: string) => (prefix ? `${prefix}.${key}` : key);
  if (s.properties)
    for (const [key, p] of Object.entries(s.properties))
      rows(p, child(key), s.required?.includes(key) ?? false, out, note);
  else if (s.type === "array" && s.items && (s.items.properties || s.items.oneOf))
    rows({ ...s.items, description: undefined }, `${prefix}[]`, false, out, note);
  else if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object") {
    const v = s.additionalProperties;
    if (v.properties || v.oneOf) rows({ ...v, description: undefined }, child("<name>"), false, out, note);
  }
}

/** Rows whose key is the bare variant/element marker repeat their parent: drop them. */
const meaningful = (r: Row, prefix: string) => (r.key !== prefix && !/(\[\]|<name>)$/.test(r.key)) || r.description;

export function configReference(schema = stackFileSchema()): string {
  const props = (schema.properties!.config as JsonSchema).properties!;
  const required = (schema.properties!.config as JsonSchema).required ?? [];
  const lines = [
    "# Stack config reference",
    "",
    "<!-- Generated by scripts/gen-config-docs.ts from components/config (npm run docs:config); do not edit. -->",
    "",
    `Every key of a stack file (\`stacks/Pulumi.<stack>.yaml\`), one section per \`${CONFIG_NAMESPACE}:<section>\` key`,
    "under `config:`. Keys are relative to their section; `[]` is a list item, `<name>` a key you choose. Stack files",
    "start with `# yaml-language-server: $schema=../docs/stack-config.schema.json`, so editors with the YAML language",
    "server complete and check these keys.",
    "",
    "One zod schema (`components/config/`) describes the whole stack config, and every type in the code is inferred",
    "from it. Unknown keys are errors (a typo never passes silently). `environment` picks the production rules",
    "(replica floor, rollout, TLS, zones, spot) from one table, `components/config/environments.ts`. Secrets",
    "(`apiKeys`, `hfToken`, `grafanaAdminPassword`, `alertReceiverUrls`, ...) are each their own key, set only with",
    "`pulumi config set --secret`; a secret stored in plain text is refused.",
    "",
    "Cross-field rules (`components/validation/rules/`) check what one key cannot: a model's GPU node group exists, its",
    "GPU has the memory for the model at its context length, the engine serves that model and task, replica floors per",
    "environment, zones belong to the region, spot in prod needs an opt-in, receivers have their secret URL, cloud",
    "stacks have a host, TLS and API keys, gateway aliases and dialects fit their models. They run in `npm run plan`",
    "and `pulumi up` before anything is created; each message names the key (YAML path), the value and the fix.",
    "",
    "Sections:",
    "",
    ...Object.keys(props).map((k) => `- [\`${k}\`](#${k.replace(/[^a-z0-9-]/gi, "").toLowerCase()})`),
    "",
  ];
  for (const [key, s] of Object.entries(props)) {
    lines.push(`## ${key}`, "");
    const head = [
      `Type: ${typeOf(s)}.`,
      required.includes(key) ? "**Required.**" : "",
      defaultOf(s) ? `Default: ${defaultOf(s)}.` : "",
    ];
    lines.push(head.filter(Boolean).join(" "), "");
    if (s.description) lines.push(s.description, "");
    const out: Row[] = [];
    rows({ ...s, description: undefined }, "", false, out);
    const shown = out.filter((r) => meaningful(r, ""));
    if (shown.length) {
      lines.push("| Key | Type | Default | Description |", "| --- | --- | --- | --- |");
      for (const r of shown)
        lines.push(`| ${code(r.key)} | ${cell(r.type)} | ${cell(r.def)} | ${cell(r.description)} |`);
      lines.push("");
    }
  }
  return lines.join("\n");
}

// ---- models.md ----

/** The engines whose adapter accepts the model, on a 48 GiB GPU in prod and on CPU in the local stack. */
function enginesFor(id: string): { gpu: string[]; cpu: string[] } {
  const spec = MODEL_CATALOGUE[id]!;
  const instance = Object.values(GPU_INSTANCE_TYPES).find((t) => t.gpuModel === "L40S")!;
  const base = { name: "m", model: id, task: spec.task, replicas: { min: 1, max: 1 }, slo: { p99LatencyMs: 300 } };
  const gpu: string[] = [];
  const cpu: string[] = [];
  for (const [name, adapter] of Object.entries(ENGINE_ADAPTERS)) {
    const onGpu = ModelConfigSchema.parse({ ...base, engine: name, gpu: { nodeGroup: "g" } });
    if (adapter.validate({ model: onGpu, spec, environment: "prod", gpu: { instance, count: 1 } }).length === 0)
      gpu.push(name);
    const onCpu = ModelConfigSchema.parse({ ...base, engine: name });
    if (adapter.validate({ model: onCpu, spec, environment: "local" }).length === 0) cpu.push(name);
  }
  return { gpu, cpu };
}

export function modelCatalogue(): string {
  const lines = [
    "# Model catalogue",
    "",
    "<!-- Generated by scripts/gen-config-docs.ts from components/serving/models.ts and the engine adapters",
    "     (npm run docs:config); do not edit. -->",
    "",
    "Models a stack can name in `models[].model` without a `spec`. Engines: those whose adapter",
    "(components/serving/engines/) accepts the model, on one 48 GiB L40S GPU (prod) and on CPU (the local stack).",
    "Another model can be served with the same facts given as `spec` (docs/config-reference.md).",
    "",
    "| Model | Task | Dims | Max tokens | Parameters (B) | Architecture | Pooling | GPU engines | CPU engines |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const [id, spec] of Object.entries(MODEL_CATALOGUE)) {
    const { gpu, cpu } = enginesFor(id);
    const dims = spec.dims === undefined ? "" : `${spec.dims}${spec.matryoshka ? " (Matryoshka)" : ""}`;
    const arch = `${spec.architecture}${spec.decoderReranker ? " (decoder reranker)" : ""}`;
    lines.push(
      `| ${code(id)} | ${spec.task} | ${dims} | ${spec.maxTokens} | ${spec.parametersB} | ${arch} | ${spec.pooling} | ` +
        `${gpu.join(", ") || "none"} | ${cpu.join(", ") || "none"} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Every generated file, by path from the repository root, with its current content. */
export async function generatedFiles(): Promise<Record<string, string>> {
  const schema = stackFileSchema();
  const json = await prettier.format(JSON.stringify(schema), {
    ...(await prettier.resolveConfig(path.join(ROOT, "docs", "x.json"))),
    parser: "json",
  });
  return {
    "docs/stack-config.schema.json": json,
    "docs/config-reference.md": configReference(schema),
    "docs/models.md": modelCatalogue(),
  };
}

async function main(): Promise<number> {
  const check = process.argv.includes("--check");
  const stale: string[] = [];
  for (const [file, text] of Object.entries(await generatedFiles())) {
    const target = path.join(ROOT, file);
    const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined;
    if (current === text) continue;
    if (check) stale.push(file);
    else fs.writeFileSync(target, text);
    if (!check) console.log(`wrote ${file}`);
  }
  if (stale.length) console.error(`stale (run npm run docs:config): ${stale.join(", ")}`);
  return stale.length ? 1 : 0;
}

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
