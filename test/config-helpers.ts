import * as path from "node:path";
import { CONFIG_NAMESPACE, ConfigError, type ConfigProblem, type PlatformConfig } from "../components/config";
import { parseStackConfig } from "../components/validation";
import { readStackFile } from "../plan/stack-file";

export const STACKS = ["local", "dev", "staging", "prod"] as const;

export const stackFile = (stack: string) => path.join(__dirname, "..", "stacks", `Pulumi.${stack}.yaml`);

/**
 * A stack file as the program receives it: raw values by key and the secret keys. Keys of this project's
 * namespace are given without it (`models`), keys of other namespaces in full (`aws:region`).
 */
export function stackInput(stack: string): { raw: Record<string, unknown>; secretKeys: Set<string> } {
  const { config, secretKeys } = readStackFile(stackFile(stack));
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) raw[short(k)] = tryJson(v);
  return { raw, secretKeys: new Set(secretKeys.map(short)) };
}

const prefix = `${CONFIG_NAMESPACE}:`;
const short = (k: string) => (k.startsWith(prefix) ? k.slice(prefix.length) : k);
const full = (k: string) => (k.includes(":") ? k : `${prefix}${k}`);

function tryJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export function parseStack(stack: string, mutate?: (raw: any, secretKeys: Set<string>) => void): PlatformConfig {
  const { raw, secretKeys } = stackInput(stack);
  mutate?.(raw, secretKeys);
  const config = Object.fromEntries(Object.entries(raw).map(([k, v]) => [full(k), v]));
  return parseStackConfig({ config, secretKeys: [...secretKeys].map(full) }, `stacks/Pulumi.${stack}.yaml`);
}

/** The problems a mutated stack config produces; fails the test if it parses. */
export function problemsOf(stack: string, mutate: (raw: any, secretKeys: Set<string>) => void): ConfigProblem[] {
  try {
    parseStack(stack, mutate);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error("expected the config to be rejected, but it parsed");
}

/** The message a mutated stack config fails with (every problem, as `pulumi up` prints it). */
export function errorOf(stack: string, mutate: (raw: any, secretKeys: Set<string>) => void): string {
  try {
    parseStack(stack, mutate);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("expected the config to be rejected, but it parsed");
}
