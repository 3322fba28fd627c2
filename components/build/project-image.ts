import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import type { Environment } from "../config/common";
import { imagesOf, type ImagesConfig } from "../config/images";
import { PACKAGE_ROOT } from "../package-root";

/** The repository root: the build context of our images (their Dockerfiles bundle code from images/ and components/). */
export const REPO_ROOT = PACKAGE_ROOT;

/**
 * A short hash of the files an image is built from (paths relative to the repository root, folders walked in
 * name order): the image tag, so a code change is a new tag and rolls the pods, and no change is no rebuild.
 */
export function sourceHash(sources: readonly string[]): string {
  const h = createHash("sha256");
  const add = (p: string) => {
    if (!fs.existsSync(p)) return;
    if (!fs.statSync(p).isDirectory()) {
      h.update(path.relative(REPO_ROOT, p)).update(fs.readFileSync(p));
      return;
    }
    for (const e of fs.readdirSync(p).sort()) add(path.join(p, e));
  };
  for (const s of sources) add(path.join(REPO_ROOT, s));
  return h.digest("hex").slice(0, 12);
}

/** Tags of the images of this program run: both hash the same build context, so the tree is read once. */
const tags = new Map<string, string>();
function tagOf(sources: readonly string[]): string {
  const key = sources.join("\0");
  let tag = tags.get(key);
  if (tag === undefined) tags.set(key, (tag = sourceHash(sources)));
  return tag;
}

interface ProjectImageArgs {
  readonly environment: Environment;
  /**
   * Where the image goes (config `images`): ecr (a repository created here), registry (an existing one; `docker
   * login` on the machine running `pulumi up`), local (not pushed). Default: the environment's (imagesOf).
   */
  readonly images?: ImagesConfig;
  /** Image name outside the cloud (`<repository>:<tag>`), and the ECR repository's name prefix in cloud stacks. */
  readonly repository: string;
  /** The Dockerfile, relative to the repository root (the build context). */
  readonly dockerfile: string;
  /** Files and folders (relative to the root) the image is built from: their hash is the tag. */
  readonly sources: readonly string[];
}

/**
 * One of this project's images (images/<name>/Dockerfile), built by `pulumi up` with the local Docker engine:
 * - `ecr`: pushed to an ECR repository of the stack (immutable tags, scanned on push), referenced by digest;
 * - `registry`: pushed as `<registry>/<repository>:<tag>` with the machine's `docker login` credentials (the docker
 *   provider falls back to the host's credentials file when no registry credentials are given: pulumi/pulumi-docker
 *   provider/image.go getRegistryAuth), referenced by digest;
 * - `local`: kept in the local Docker engine without a push, for a kind/minikube cluster to load
 *   (`kind load docker-image`, docs/deploying.md).
 * `prebuilt` builds nothing: callers use the configured references and never construct a ProjectImage.
 */
export class ProjectImage extends pulumi.ComponentResource {
  /** What a pod spec's `image` gets: the pushed digest or, local, `<repository>:<tag>`. */
  readonly ref: pulumi.Output<string>;
  readonly tag: string;
  readonly image: docker.Image;
  /** The ECR repository (source ecr only). */
  readonly repository?: aws.ecr.Repository;

  constructor(name: string, args: ProjectImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:build:ProjectImage", name, {}, opts);
    this.tag = tagOf(args.sources);
    const build = {
      context: REPO_ROOT,
      dockerfile: path.join(REPO_ROOT, args.dockerfile),
      platform: "linux/amd64",
    };
    const images = imagesOf(args.images, args.environment);
    switch (images.source) {
      case "prebuilt":
        throw new Error(
          `images.source is "prebuilt": ${args.repository} is not built; pass the configured reference instead of a ProjectImage`,
        );
      case "local":
        this.image = new docker.Image(
          name,
          { imageName: `${args.repository}:${this.tag}`, build, skipPush: true },
          { parent: this },
        );
        this.ref = this.image.imageName;
        break;
      case "registry":
        this.image = new docker.Image(
          name,
          { imageName: `${images.registry}/${args.repository}:${this.tag}`, build },
          { parent: this },
        );
        this.ref = this.image.repoDigest;
        break;
      case "ecr": {
        const repo = new aws.ecr.Repository(
          name,
          { imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true }, forceDelete: true },
          { parent: this },
        );
        this.repository = repo;
        const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, { parent: this });
        this.image = new docker.Image(
          name,
          {
            imageName: pulumi.interpolate`${repo.repositoryUrl}:${this.tag}`,
            build,
            registry: { server: repo.repositoryUrl, username: auth.userName, password: pulumi.secret(auth.password) },
          },
          { parent: this },
        );
        this.ref = this.image.repoDigest;
        break;
      }
    }
    this.registerOutputs({ ref: this.ref });
  }
}

/**
 * What both images are built from: the build context the repository's .dockerignore lets through (the same for
 * both). @pulumi/docker rebuilds when any of it changes, so the tag (pushed to an immutable ECR repository) must
 * change with any of it too.
 */
export const BUILD_CONTEXT_SOURCES = [
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "images",
  "components",
] as const;

/** The verifier image (images/verifier: the post-deploy Job's /app/job.js and the quality canary's /app/canary.js, images/canary). */
export const VERIFIER_IMAGE = {
  repository: "retrieval-verifier",
  dockerfile: "images/verifier/Dockerfile",
  sources: BUILD_CONTEXT_SOURCES,
} as const;

/** The gateway image (images/gateway: the bundled server of images/gateway/src and its playground). */
export const GATEWAY_IMAGE = {
  repository: "retrieval-gateway",
  dockerfile: "images/gateway/Dockerfile",
  sources: BUILD_CONTEXT_SOURCES,
} as const;
