import type { PlatformConfig } from "../../config/schema";

export interface RuleProblem {
  /** Path inside the parsed config, e.g. ["models", 1, "engine"]. */
  readonly path: readonly PropertyKey[];
  readonly value: unknown;
  /** What is wrong, with the fix. */
  readonly message: string;
}

/** A cross-field rule sees every section that parsed; it must skip what is missing. */
export type Rule = (config: Partial<PlatformConfig>) => RuleProblem[];
