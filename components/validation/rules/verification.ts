import { profileOf } from "../../config/environments";
import { problem } from "../../config/errors";
import { verificationModeOf } from "../../config/verification";
import { imagesOf } from "../../config/images";
import type { Rule, RuleProblem } from "./types";

/**
 * Verification rules: the Job needs an image it can pull. Cloud stacks build and push one to ECR; elsewhere
 * there is no registry to push to, so a prebuilt image (or local mode) is required. Local mode calls the
 * models from the machine running `pulumi up`, through the ingress: with the ingress off it cannot reach them.
 */
export const verificationRules: Rule = (config) => {
  const out: RuleProblem[] = [];
  const v = config.verification;
  if (!v || !config.environment) return out;
  const mode = verificationModeOf(v, config.environment);
  const at = ["verification", "mode"];
  // Without a registry (images.source local) a locally built image cannot reach the Job's node.
  if (
    mode === "job" &&
    !v.image &&
    !profileOf(config.environment).cloud &&
    imagesOf(config.images, config.environment).source === "local"
  )
    out.push(
      problem(
        at,
        v.mode,
        `"job" needs an image the cluster can pull, and the ${config.environment} stack has no registry to push one to`,
        "set verification.image to a pinned verifier image (built from images/verifier), " +
          'images.source to "registry" or "prebuilt", or verification.mode to "local"',
      ),
    );
  if (mode === "local" && config.ingress && !config.ingress.enabled)
    out.push(
      problem(
        at,
        v.mode,
        `${v.mode === "auto" ? '"auto" means "local" in this stack, which' : '"local"'} calls the models through the ` +
          "ingress from the machine running pulumi, and ingress.enabled is false",
        'set verification.mode to "job" (in-cluster), or enable the ingress',
      ),
    );
  if (v.requestTimeoutSeconds > v.timeoutSeconds)
    out.push(
      problem(
        ["verification", "requestTimeoutSeconds"],
        v.requestTimeoutSeconds,
        `is above verification.timeoutSeconds (${v.timeoutSeconds}), the budget of all of a model's checks, so one slow attempt would use it up and no retry could run`,
        `set it below ${v.timeoutSeconds}, e.g. ${Math.max(0.1, Math.floor(v.timeoutSeconds / 4))}`,
      ),
    );
  return out;
};
