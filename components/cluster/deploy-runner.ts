import type { ClusterConfig } from "../config/cluster";

/** The GitHub-hosted image every workflow job uses (.github/workflows/*.yml). */
const GITHUB_HOSTED_RUNNER = "ubuntu-24.04";

/**
 * The deploy job's `runs-on` for a stack (cluster.deployRunner): the GitHub-hosted image, or the labels of the
 * self-hosted runner that has a network path to a private API endpoint (docs/deploying.md).
 */
export function deployRunsOn(cluster: ClusterConfig): string | readonly string[] {
  return cluster.deployRunner.type === "self-hosted" ? cluster.deployRunner.labels : GITHUB_HOSTED_RUNNER;
}
