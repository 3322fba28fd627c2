import { z } from "zod";
import { PLATFORM_SECTIONS, type PlatformConfig, type SectionName } from "../config/schema";
import { SECRET_KEYS } from "../config/secrets";
import { ConfigError, type ConfigProblem, yamlPath } from "../config/errors";
import { crossFieldProblems } from "./rules";

export interface ParseOptions {
  /** Config keys (without namespace) that Pulumi holds as secrets. */
  readonly secretKeys: ReadonlySet<string>;
  /** Named in the error, e.g. "stacks/Pulumi.prod.yaml". */
  readonly source?: string;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** A zod issue in words a platform engineer can act on. */
function explain(issue: z.core.$ZodIssue, value: unknown): { path: PropertyKey[]; value: unknown; message: string } {
  const path = [...issue.path];
  switch (issue.code) {
    case "unrecognized_keys": {
      const key = issue.keys[0] ?? "";
      return {
        path: [...path, key],
        value: valueAt(value, [key]),
        message: `unknown key${issue.keys.length > 1 ? `s ${issue.keys.map((k) => `"${k}"`).join(", ")}` : ""}. Fix: remove it or correct its spelling (README, "Configuration reference").`,
      };
    }
    case "invalid_type":
      if (value === undefined)
        return { path, value, message: `is required (expected ${issue.expected}). Fix: set it in the stack file.` };
      return {
        path,
        value,
        message: `must be ${issue.expected === "int" ? "a whole number" : `a ${issue.expected}`}. Fix: write it as a ${issue.expected}.`,
      };
    case "invalid_value":
      return {
        path,
        value,
        message: `${value === undefined ? "is required; it " : ""}must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}.`,
      };
    case "invalid_union":
      if (issue.discriminator !== undefined || issue.errors.length === 0) {
        const options =
          "options" in issue && issue.options?.length
            ? issue.options.map((o) => JSON.stringify(o)).join(", ")
            : "a documented choice";
        return {
          path,
          value,
          message: `${value === undefined ? "is required; it " : "is not a known choice; it "}must be one of ${options}.`,
        };
      }
      return { path, value, message: issue.message };
    default:
      return { path, value, message: /Fix:|e\.g\.|such as/.test(issue.message) ? issue.message : `${issue.message}.` };
  }
}

/**
 * Validates a whole stack config and returns it typed, or throws a ConfigError that lists every problem.
 * Each section is parsed on its own, so that one bad section does not hide the problems of the others; the
 * cross-field rules then run over every section that parsed.
 */
export function parsePlatformConfig(raw: Record<string, unknown>, options: ParseOptions): PlatformConfig {
  const problems: ConfigProblem[] = [];
  const add = (path: readonly PropertyKey[], value: unknown, message: string) =>
    problems.push({ path: yamlPath(path), value, message });

  const known = new Set<string>([...Object.keys(PLATFORM_SECTIONS), ...SECRET_KEYS]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key))
      add([key], raw[key], `unknown config key. Fix: remove it or use one of ${[...known].join(", ")}.`);
  }

  // Secret keys: refuse plain text, then gather them under `secrets`.
  const secretsRaw: Record<string, unknown> = {};
  for (const key of SECRET_KEYS) {
    if (raw[key] === undefined) continue;
    if (!options.secretKeys.has(key)) {
      add(
        [key],
        "(plain text, value hidden)",
        `is a secret but is stored in plain text in the stack file. Fix: pulumi config rm ${key} && pulumi config set --secret ${key} <value>.`,
      );
      continue;
    }
    secretsRaw[key] = decodeJson(raw[key]);
  }

  const parsed: Record<string, unknown> = {};
  const sectionInput: Record<SectionName, unknown> = { ...raw, secrets: secretsRaw } as Record<SectionName, unknown>;
  for (const [name, schema] of Object.entries(PLATFORM_SECTIONS) as [SectionName, z.ZodTypeAny][]) {
    const input = name === "secrets" ? secretsRaw : decodeJson(sectionInput[name]);
    const result = schema.safeParse(input);
    if (result.success) {
      parsed[name] = result.data;
      continue;
    }
    if (name === "models" && Array.isArray(input)) parsed.models = parseEachModel(input);
    for (const issue of result.error.issues) {
      const e = explain(issue, valueAt(input, issue.path));
      // Secret values are never echoed back.
      const shown = name === "secrets" ? "(secret, value hidden)" : e.value;
      add(name === "secrets" ? e.path : [name, ...e.path], shown, e.message);
    }
  }

  for (const p of crossFieldProblems(parsed as Partial<PlatformConfig>)) add(p.path, p.value, p.message);

  if (problems.length > 0) throw new ConfigError(problems, options.source);
  return parsed as PlatformConfig;
}

/**
 * When some models are invalid, the valid ones still go through the cross-field rules, at their own indices
 * (a sparse array), so that one typo does not hide another model's problems.
 */
function parseEachModel(input: unknown[]): PlatformConfig["models"] {
  const models: PlatformConfig["models"] = [];
  input.forEach((m, i) => {
    const r = PLATFORM_SECTIONS.models.element.safeParse(m);
    if (r.success) models[i] = r.data;
  });
  return models;
}

/** `pulumi config set` stores lists and maps given on the command line as JSON strings. */
function decodeJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const t = value.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return value;
  try {
    return JSON.parse(t);
  } catch {
    return value;
  }
}
