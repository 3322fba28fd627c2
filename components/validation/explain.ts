import { z } from "zod";
import { fixMessage, type PathProblem } from "../config/errors";
import { closest } from "../config/suggest";

/** Where each key is documented (generated from the schema by scripts/gen-config-docs.ts). */
export const REFERENCE = "docs/config-reference.md";

type Schema = z.core.$ZodType;

/** Strips optional/default/nullable/pipe wrappers to reach the schema that checks the value. */
function unwrap(schema: Schema): Schema {
  let s = schema;
  for (let i = 0; i < 10; i++) {
    const def = s._zod.def as unknown as { type: string; innerType?: Schema; in?: Schema };
    if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  return s;
}

/** The schema that checks the value at `path` under `schema` (undefined when the path leaves the schema). */
function schemaAt(schema: Schema, root: unknown, path: readonly PropertyKey[]): Schema | undefined {
  let s: Schema | undefined = unwrap(schema);
  let v: unknown = root;
  for (const key of path) {
    if (!s) return undefined;
    s = unwrap(chooseOption(s, v));
    const def = s._zod.def as unknown as {
      type: string;
      shape?: Record<string, Schema>;
      element?: Schema;
      valueType?: Schema;
    };
    if (def.type === "object") s = def.shape?.[String(key)];
    else if (def.type === "array") s = def.element;
    else if (def.type === "record") s = def.valueType;
    else return undefined;
    v = v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return s && unwrap(chooseOption(s, v));
}

/** A discriminated union's option for the value's discriminator (the first option when it matches none). */
function chooseOption(schema: Schema, value: unknown): Schema {
  const def = schema._zod.def as unknown as { type: string; discriminator?: string; options?: Schema[] };
  if (def.type !== "union" || !def.options?.length) return schema;
  const tag = def.discriminator && value && typeof value === "object" ? (value as never)[def.discriminator] : undefined;
  const match = def.options.find((o) => {
    const shape = (unwrap(o)._zod.def as unknown as { shape?: Record<string, Schema> }).shape;
    const lit = shape && def.discriminator ? shape[def.discriminator] : undefined;
    const values = (lit?._zod.def as unknown as { values?: unknown[] } | undefined)?.values ?? [];
    return values.includes(tag);
  });
  return match ?? def.options[0]!;
}

function objectKeys(schema: Schema | undefined): string[] {
  const shape = schema && (schema._zod.def as unknown as { shape?: Record<string, Schema> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** Required keys of an object schema (no default, not optional). */
function requiredKeys(schema: Schema | undefined): string[] {
  const shape = schema && (schema._zod.def as unknown as { shape?: Record<string, Schema> }).shape;
  if (!shape) return [];
  return Object.entries(shape)
    .filter(([, s]) => (s._zod as unknown as { optin?: string }).optin === undefined)
    .map(([k]) => k);
}

const TYPE_WORDS: Record<string, string> = {
  array: "a list",
  object: "a mapping of keys to values",
  record: "a mapping of keys to values",
  number: "a number",
  int: "a whole number",
  string: "a text value",
  boolean: "true or false",
};
const typeWords = (t: string) => TYPE_WORDS[t] ?? `a ${t}`;

const EXAMPLES: Record<string, string> = {
  array: "[a, b]",
  object: "{ key: value }",
  record: "{ key: value }",
  number: "3",
  int: "3",
  string: '"text"',
  boolean: "true",
};

const quoted = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).join(", ");

/** The schema's own message when it already has the "Fix:" form (custom messages in components/config). */
const ownFix = (issue: z.core.$ZodIssue) => (/\bFix: /.test(issue.message) ? issue.message : undefined);

/**
 * A zod issue in words a platform engineer can act on: what is wrong and the fix, never raw schema text.
 * `root` is the section's input and `schema` the section's schema (for "did you mean" over the known keys).
 */
export function explain(issue: z.core.$ZodIssue, schema: Schema, root: unknown): PathProblem[] {
  const path = [...issue.path];
  const value = valueAt(root, path);
  const at = (what: string, fix: string, p: PropertyKey[] = path, v: unknown = value): PathProblem => ({
    path: p,
    value: v,
    // A missing value is "required", whatever the schema says about a wrong one.
    message: (v !== undefined && ownFix(issue)) || fixMessage(what, fix),
  });
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = objectKeys(schemaAt(schema, root, path));
      return issue.keys.map((key) => {
        const near = closest(key, known);
        const fix = near
          ? `did you mean "${near}"? Rename it to ${near}`
          : `remove it, or use one of ${known.join(", ")} (${REFERENCE})`;
        return at("unknown key", fix, [...path, key], valueAt(root, [...path, key]));
      });
    }
    case "invalid_type": {
      const here = schemaAt(schema, root, path);
      if (value === undefined)
        return [at(`is required (${typeWords(issue.expected)})`, `set it, e.g. ${exampleOf(issue.expected, here)}`)];
      if (value === null)
        return [at("is empty", `remove the key to take the defaults, or write its settings under it (${REFERENCE})`)];
      if (typeof value === "number" && !Number.isFinite(value))
        return [at("is not a finite number (YAML .inf and .nan are not allowed here)", "write a number, e.g. 3")];
      return [
        at(`must be ${typeWords(issue.expected)}, not ${describeType(value)}`, shapeFix(issue.expected, here, value)),
      ];
    }
    case "invalid_value": {
      const near = typeof value === "string" ? closest(value, issue.values.map(String)) : undefined;
      const what = value === undefined ? "is required" : "is not one of the accepted values";
      const fix = near
        ? `did you mean "${near}"? Use one of ${quoted(issue.values)}`
        : `use one of ${quoted(issue.values)}`;
      return [at(what, fix)];
    }
    case "invalid_union": {
      const options = "options" in issue && Array.isArray(issue.options) ? (issue.options as unknown[]) : [];
      const tag =
        value && typeof value === "object" && issue.discriminator ? (value as never)[issue.discriminator] : value;
      if (issue.discriminator !== undefined || options.length) {
        const near = typeof tag === "string" ? closest(tag, options.map(String)) : undefined;
        const what = tag === undefined ? "is required" : "is not a known choice";
        const choices = options.length ? quoted(options) : "the documented choices";
        const fix = `${near ? `did you mean "${near}"? ` : ""}use one of ${choices}`;
        return [at(what, fix)];
      }
      return [at("matches none of the accepted forms", `see ${REFERENCE}`)];
    }
    case "too_small":
      return [at(smallWhat(issue), boundFix(issue.minimum, issue.inclusive ?? true, "min", issue.origin))];
    case "too_big":
      return [at(bigWhat(issue), boundFix(issue.maximum, issue.inclusive ?? true, "max", issue.origin))];
    case "invalid_format":
      return [
        at(
          `is not a valid ${issue.format === "regex" ? "value" : issue.format}`,
          `write it in that form (${REFERENCE})`,
        ),
      ];
    case "invalid_key": {
      const key = String(path.pop() ?? "");
      const inner = issue.issues[0];
      const why = inner && ownFix(inner as z.core.$ZodIssue);
      return [
        {
          path: [...path, key],
          value: key,
          message: why ?? fixMessage("is not a valid name here", `rename it (${REFERENCE})`),
        },
      ];
    }
    default:
      return [at(issue.message, `see ${REFERENCE}`)];
  }
}

function smallWhat(issue: z.core.$ZodIssueTooSmall): string {
  const n = Number(issue.minimum);
  if (issue.origin === "array") return `needs at least ${n} item${n === 1 ? "" : "s"}`;
  if (issue.origin === "string") return n <= 1 ? "must not be empty" : `must be at least ${n} characters`;
  return issue.inclusive ? `must be at least ${n}` : `must be greater than ${n}`;
}

function bigWhat(issue: z.core.$ZodIssueTooBig): string {
  const n = Number(issue.maximum);
  if (issue.origin === "array") return `has more than ${n} items`;
  if (issue.origin === "string") return `is longer than ${n} characters`;
  return issue.inclusive ? `must be at most ${n}` : `must be less than ${n}`;
}

function boundFix(bound: number | bigint, inclusive: boolean, side: "min" | "max", origin: string): string {
  const n = Number(bound);
  if (origin === "array") return side === "min" ? `list at least ${n}` : `list at most ${n}`;
  if (origin === "string")
    return side === "min" ? (n <= 1 ? "set a value" : `use at least ${n} characters`) : `shorten it`;
  const example = inclusive ? n : side === "min" ? (Number.isInteger(n) ? n + 1 : n * 2 || 1) : n / 2;
  return `set a value ${side === "min" ? (inclusive ? ">=" : ">") : inclusive ? "<=" : "<"} ${n}, e.g. ${example}`;
}

function describeType(value: unknown): string {
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return "text";
  return `a ${typeof value}`;
}

function exampleOf(expected: string, here: Schema | undefined): string {
  if (expected === "object") {
    const req = requiredKeys(here);
    if (req.length) return `{ ${req.map((k) => `${k}: ...`).join(", ")} }`;
  }
  const element = here && (here._zod.def as unknown as { element?: Schema }).element;
  if (expected === "array" && element) {
    const req = requiredKeys(unwrap(element));
    if (req.length) return `[{ ${req.map((k) => `${k}: ...`).join(", ")} }]`;
  }
  return EXAMPLES[expected] ?? "a value";
}

/** How to write the value in the expected shape; a scalar where a one-field object is expected becomes that field. */
function shapeFix(expected: string, here: Schema | undefined, value: unknown): string {
  const req = requiredKeys(here);
  if (expected === "object" && req.length === 1 && typeof value !== "object")
    return `write it as { ${req[0]}: ${JSON.stringify(value)} }`;
  if (expected === "array" && value !== null && typeof value !== "object")
    return `write it as a list, e.g. [${JSON.stringify(value)}]`;
  return `write it as ${typeWords(expected)}, e.g. ${exampleOf(expected, here)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}
