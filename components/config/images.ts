import { z } from "zod";
import type { Environment } from "./common";
import { profileOf } from "./environments";
import { fixMessage } from "./errors";
import { ImageRef } from "./formats";

/**
 * A registry and path prefix our images are pushed under: `<prefix>/retrieval-gateway:<tag>`, e.g.
 * "123456789012.dkr.ecr.eu-west-1.amazonaws.com/search" or "ghcr.io/acme". No scheme, no tag.
 */
const RegistryPrefix = z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/, {
  message: fixMessage(
    "is not a registry and path prefix (host[:port][/path], lowercase, no scheme and no tag)",
    'write e.g. "123456789012.dkr.ecr.us-east-1.amazonaws.com/search" or "ghcr.io/acme"',
  ),
});

/**
 * Where the stack's own images (the gateway, images/gateway; the verifier and quality canary, images/verifier)
 * come from. Absent: `ecr` in cloud environments (dev, staging, prod), `local` elsewhere.
 */
export const ImagesSchema = z
  .discriminatedUnion("source", [
    z.strictObject({
      source: z.literal("ecr").meta({
        description:
          "`pulumi up` creates one ECR repository per image (immutable tags, scan on push) in the AWS account and region of the AWS provider, builds the images with the local Docker engine and pushes them.",
      }),
    }),
    z.strictObject({
      source: z.literal("registry").meta({
        description:
          "`pulumi up` builds the images and pushes them to an existing registry, with the credentials of `docker login <registry>` on the machine running it; nothing is created in AWS.",
      }),
      registry: RegistryPrefix.meta({
        description: "Registry and path prefix, e.g. ghcr.io/acme: images become <registry>/retrieval-gateway:<tag>.",
      }),
    }),
    z.strictObject({
      source: z.literal("prebuilt").meta({
        description:
          "Nothing is built or pushed: the cluster pulls the pinned references below (built from this repository's images/*/Dockerfile by your own pipeline).",
      }),
      gateway: ImageRef.optional().meta({
        description: "The gateway image (`registry/repo:tag` or `@sha256:` digest). Required when the gateway is on.",
      }),
      verifier: ImageRef.optional().meta({
        description:
          "The verifier image (post-deploy Job and quality canary). Required when either runs in the cluster.",
      }),
    }),
    z.strictObject({
      source: z.literal("local").meta({
        description:
          "Built into the local Docker engine and not pushed (local stacks): load them into the cluster with `kind load docker-image` / `minikube image load` (docs/deploying.md).",
      }),
    }),
  ])
  .meta({
    description:
      "Where the stack's own images (gateway, verifier) come from: ecr (created by the stack), registry (an existing one), prebuilt (references, nothing built) or local (kind/minikube). Default: ecr in cloud environments, local elsewhere.",
  });
export type ImagesConfig = z.infer<typeof ImagesSchema>;
export type ImageSource = ImagesConfig["source"];

/** The images section with its environment default applied. */
export function imagesOf(images: ImagesConfig | undefined, environment: Environment): ImagesConfig {
  return images ?? { source: profileOf(environment).cloud ? "ecr" : "local" };
}
