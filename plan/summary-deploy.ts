import { imagesOf as imagesConfigOf } from "../components/config/images";
import { TOOLS } from "../components/versions";
import type { PlannedResource } from "./render";
import type { SummarySection } from "./summary";

const DOCKER_IMAGE = "docker:index/image:Image";
/** Resource types of the AWS providers (aws:, awsx:, eks:): everything the stack creates outside Kubernetes. */
const isAws = (r: PlannedResource) => /^(aws|awsx|eks):/.test(r.type) && !r.type.startsWith("pulumi:providers:");
/** Component resources group others; only the resources they create count. */
const isComponent = (r: PlannedResource) => r.type === "eks:index:Cluster" || r.type.startsWith("awsx:");

/**
 * ECR rights for `images.source: ecr`: the repository's lifecycle (ECR API CreateRepository, DescribeRepositories,
 * DeleteRepository) and a push (AWS ECR user guide, "IAM permissions for pushing an image to an Amazon ECR
 * private repository", read 2026-12-07).
 */
const ECR_RIGHTS =
  "`ecr:CreateRepository`, `ecr:DescribeRepositories`, `ecr:DeleteRepository`, `ecr:GetAuthorizationToken`, " +
  "`ecr:BatchCheckLayerAvailability`, `ecr:InitiateLayerUpload`, `ecr:UploadLayerPart`, `ecr:CompleteLayerUpload`, " +
  "`ecr:PutImage`, `ecr:BatchGetImage`";

interface BuiltImage {
  readonly resource: string;
  readonly imageName: string;
  readonly dockerfile: string;
  readonly pushed: boolean;
}

function builtImages(resources: readonly PlannedResource[]): BuiltImage[] {
  return resources
    .filter((r) => r.type === DOCKER_IMAGE)
    .map((r) => {
      const inputs = r.inputs as { imageName?: unknown; skipPush?: unknown; build?: { dockerfile?: unknown } };
      const dockerfile = String(inputs.build?.dockerfile ?? "");
      return {
        resource: r.name,
        // An ECR repository's URL is only known after it exists.
        imageName: typeof inputs.imageName === "string" ? inputs.imageName : "<ECR repository URL>:<tag>",
        dockerfile: dockerfile.slice(dockerfile.lastIndexOf("images/")),
        pushed: inputs.skipPush !== true,
      };
    });
}

/**
 * plan.md "What `pulumi up` creates and needs": every resource outside Kubernetes, every image it builds and where
 * it goes, and the tools, logins and cloud rights the machine running `pulumi up` must have, read from the plan.
 */
export const deploySummary: SummarySection = ({ config, plan }) => {
  const { cluster, environment } = config;
  const images = imagesConfigOf(config.images, environment);
  const aws = plan.resources.filter((r) => isAws(r) && !isComponent(r));
  const components = plan.resources.filter((r) => isAws(r) && isComponent(r));
  const byType = new Map<string, number>();
  for (const r of [...components, ...aws]) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
  const built = builtImages(plan.resources);
  const lines = ["## What `pulumi up` creates and needs", ""];

  lines.push(`**Outside Kubernetes** (images.source: \`${images.source}\`):`, "");
  if (byType.size === 0)
    lines.push(
      `- No AWS resources are created${cluster.mode === "existing" ? ` (the cluster \`${cluster.name}\` exists already)` : ""}.`,
    );
  else
    lines.push(
      `- AWS resources: ${[...byType].map(([t, n]) => `${n} \`${t}\``).join(", ")}${cluster.mode === "eks" ? " (the EKS components create more inside them: VPC, subnets, NAT gateways, the control plane, node groups, IAM roles)" : ""}.`,
    );
  if (built.length === 0)
    lines.push(
      images.source === "prebuilt"
        ? "- No image is built: the cluster pulls the configured `images.gateway` / `images.verifier` references."
        : "- No image is built.",
    );
  else {
    lines.push(`- Docker images built (linux/amd64) from this checkout: ${built.length}`, "");
    lines.push("| image | Dockerfile | goes to |", "| --- | --- | --- |");
    for (const b of built)
      lines.push(
        `| \`${b.imageName}\` | \`${b.dockerfile}\` | ${b.pushed ? (images.source === "ecr" ? "pushed to its ECR repository, used by digest" : `pushed to \`${images.source === "registry" ? images.registry : ""}\`, used by digest`) : "this machine's Docker engine only (not pushed)"} |`,
      );
  }
  lines.push(
    "",
    `- Kubernetes: ${plan.objects.length} objects and ${plan.helmReleases.length} Helm releases (charts from ${[...new Set(plan.helmReleases.map((h) => h.repo ?? h.chart.replace(/\/[^/]+$/, "")))].map((u) => `\`${u}\``).join(", ")}).`,
  );

  lines.push("", "**The machine running `pulumi up` needs:**", "");
  lines.push(
    `- The Pulumi CLI ${TOOLS.pulumiCli.version}, logged in to the stack's backend, with its secrets provider and the secrets listed in docs/deploying.md set; Node.js and \`npm ci\`.`,
  );
  if (built.length)
    lines.push(
      `- A Docker engine it can reach (\`DOCKER_HOST\` or the local socket): \`pulumi up\` builds ${built.length} image(s) from the repository root.`,
    );
  if (images.source === "ecr")
    lines.push(
      `- AWS credentials whose rights include ${ECR_RIGHTS}; the stack logs Docker in to ECR itself (an authorization token per repository).`,
    );
  if (images.source === "registry")
    lines.push(
      `- \`docker login ${images.registry.split("/")[0]}\` done beforehand: the push uses this machine's Docker credentials (no registry secret is stored in the stack); the cluster's nodes must be able to pull from it (a public repository, node credentials or an image pull secret).`,
    );
  if (images.source === "local" && built.length)
    lines.push(
      "- After the images are built, load them into the cluster before its pods can start (docs/deploying.md):",
      "",
      "  ```bash",
      ...built.map(
        (b) =>
          `  kind load docker-image ${b.imageName} --name <kind cluster>   # or: minikube image load ${b.imageName}`,
      ),
      "  ```",
    );
  if (images.source === "prebuilt")
    lines.push("- Nothing for images: the cluster's nodes must be able to pull the configured references.");
  if (cluster.mode === "eks")
    lines.push(
      "- AWS credentials of the deploy role, which becomes the cluster's creator and admin (docs/deploying.md#iam-and-access); the AWS CLI v2 (the kubeconfig calls `aws eks get-token`); a network path to the API server endpoint.",
    );
  else
    lines.push(
      `- A kubeconfig context ${cluster.context ? `\`${cluster.context}\`` : "(the current one)"} with cluster-admin rights (the stack installs CRDs, namespaces and cluster roles).`,
    );
  lines.push('- HTTPS access to the chart repositories above, and the registries of the images in "Container images".');
  return lines.join("\n");
};
