import { problem, type PathProblem } from "../../config/errors";
import type { PlatformConfig } from "../../config/schema";

/**
 * The AWS provider creates the VPC and the cluster in `aws:region`, while zones, the autoscaler and the load
 * balancer controller use cluster.region: the two must name the same region, or the first `pulumi up` fails late.
 */
export function providerProblems(
  config: Partial<PlatformConfig>,
  other: Readonly<Record<string, unknown>>,
): PathProblem[] {
  const cluster = config.cluster;
  if (cluster?.mode !== "eks") return [];
  const region = other["aws:region"];
  if (region === undefined)
    return [
      problem(
        ["aws:region"],
        undefined,
        "is not set, so the AWS provider would take its region from the environment of whoever runs pulumi, " +
          `while cluster.region is ${cluster.region}`,
        `pulumi config set aws:region ${cluster.region}`,
      ),
    ];
  if (region !== cluster.region)
    return [
      problem(
        ["aws:region"],
        region,
        `differs from cluster.region (${cluster.region}): the VPC and cluster would be created in ` +
          `${String(region)}, the zones and controllers expect ${cluster.region}`,
        `set aws:region and cluster.region to the same region, e.g. aws:region: ${cluster.region}`,
      ),
    ];
  return [];
}
