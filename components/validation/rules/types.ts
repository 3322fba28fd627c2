import type { PlatformConfig } from "../../config/schema";
import type { PathProblem } from "../../config/errors";

/** A problem at a path inside the parsed config, e.g. ["models", 1, "engine"]; built with `problem()`. */
export type RuleProblem = PathProblem;

/** A cross-field rule sees every section that parsed; it must skip what is missing. */
export type Rule = (config: Partial<PlatformConfig>) => RuleProblem[];
