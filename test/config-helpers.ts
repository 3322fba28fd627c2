import * as path from "node:path";
import { CONFIG_NAMESPACE, ConfigError, type ConfigProblem, type PlatformConfig } from "../components/config";
import { parsePlatformConfig } from "../components/validation";
import { readStackFile } from "../plan/stack-file";

export const STACKS = ["local", "dev", "staging", "prod"] as const;

/** A stack file as the program receives it: raw values by key (without namespace) and the secret keys. */
export function stackInput(stack: string): { raw: Record<string, unknown>; secretKeys: Set<string> } {
  const { config, secretKeys } = readStackFile(path.join(__dirname, "..", "stacks", `Pulumi.${stack}.yaml`));
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (k.startsWith(prefix)) raw[k.slice(prefix.length)] = tryJson(v);
  return { raw, secretKeys: new Set(secretKeys.map((k) => k.slice(prefix.length))) };
}

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
  return parsePlatformConfig(raw, { secretKeys, source: `stacks/Pulumi.${stack}.yaml` });
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
