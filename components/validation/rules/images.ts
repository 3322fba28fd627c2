import { profileOf } from "../../config/environments";
import { problem } from "../../config/errors";
import { imagesOf } from "../../config/images";
import { verificationModeOf } from "../../config/verification";
import type { Rule, RuleProblem } from "./types";

/**
 * Where our images come from must fit the environment and the workloads that run them: a cloud cluster cannot pull
 * from the laptop's Docker engine, a local stack has no AWS account to create ECR in, and prebuilt references must
 * name every image a workload of this stack runs.
 */
export const imagesRules: Rule = (config) => {
  const out: RuleProblem[] = [];
  if (!config.environment) return out;
  const images = imagesOf(config.images, config.environment);
  const cloud = profileOf(config.environment).cloud;
  if (images.source === "local" && cloud)
    out.push(
      problem(
        ["images", "source"],
        images.source,
        `builds the images into this machine's Docker engine only, and the nodes of the ${config.environment} cluster cannot pull from it`,
        'use "ecr" (the stack creates the repositories), "registry" with images.registry, or "prebuilt" with image references',
      ),
    );
  if (images.source === "ecr" && !cloud)
    out.push(
      problem(
        ["images", "source"],
        images.source,
        `creates ECR repositories in an AWS account, and the ${config.environment} stack has none`,
        'use "local" (kind/minikube: docs/deploying.md) or "registry" with images.registry',
      ),
    );
  if (images.source !== "prebuilt") return out;
  if (config.gateway?.enabled !== false && !images.gateway && !config.gateway?.image)
    out.push(
      problem(
        ["images", "gateway"],
        undefined,
        'is required with source "prebuilt": the gateway is on and nothing builds its image',
        "set images.gateway to a pinned gateway image built from images/gateway/Dockerfile (or turn gateway.enabled off)",
      ),
    );
  const canary = config.observability?.enabled !== false && config.observability?.canary?.enabled !== false;
  const job = config.verification && verificationModeOf(config.verification, config.environment) === "job";
  if ((canary || job) && !images.verifier && !config.verification?.image)
    out.push(
      problem(
        ["images", "verifier"],
        undefined,
        `is required with source "prebuilt": ${[canary && "the quality canary", job && "the post-deploy verification Job"].filter(Boolean).join(" and ")} run(s) it and nothing builds it`,
        "set images.verifier to a pinned verifier image built from images/verifier/Dockerfile",
      ),
    );
  return out;
};
