import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { LIMIT_STORE } from "./limit-store-spec";

/**
 * The gateway's shared limit counters in a cloud stack: an Amazon ElastiCache replication group with the Valkey
 * engine, a primary and a replica in different zones with automatic failover (Multi-AZ), encryption in transit
 * (TLS required) and at rest, an AUTH token from a Pulumi secret, in the cluster's private subnets, reachable on
 * its port only from the nodes' security group. Every field below is in @pulumi/aws 7.48.0
 * (elasticache/replicationGroup.d.ts ReplicationGroupArgs: engine "redis"|"valkey", authToken "can be specified
 * only if transitEncryptionEnabled = true", multiAzEnabled "if true, automaticFailoverEnabled must also be
 * enabled", numCacheClusters "must be at least 2" with either; read 2026-12-07) and the ElastiCache user guide
 * ("Engine versions and upgrading in ElastiCache": "ElastiCache version 9.0 for Valkey", read 2026-12-07).
 */
export { LIMIT_STORE };

export interface LimitStoreArgs {
  readonly vpcId: pulumi.Input<string>;
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The security group of the nodes the gateway pods run on: the only source admitted. */
  readonly nodeSecurityGroupId: pulumi.Input<string>;
  /** The AUTH token (16-128 printable characters; a Pulumi secret). */
  readonly authToken: pulumi.Input<string>;
  readonly tags?: Record<string, string>;
}

/** Pure: the replication group's arguments (the tests read them). */
export function limitStoreGroupArgs(
  name: string,
  a: Pick<LimitStoreArgs, "authToken" | "tags">,
  refs: { subnetGroupName: pulumi.Input<string>; securityGroupId: pulumi.Input<string> },
): aws.elasticache.ReplicationGroupArgs {
  return {
    description: `${name}: the retrieval gateway's limit counters`,
    engine: LIMIT_STORE.engine,
    engineVersion: LIMIT_STORE.engineVersion,
    nodeType: LIMIT_STORE.nodeType,
    numCacheClusters: LIMIT_STORE.nodes,
    automaticFailoverEnabled: true,
    multiAzEnabled: true,
    transitEncryptionEnabled: true,
    transitEncryptionMode: "required",
    atRestEncryptionEnabled: true,
    authToken: pulumi.secret(a.authToken),
    port: LIMIT_STORE.port,
    subnetGroupName: refs.subnetGroupName,
    securityGroupIds: [refs.securityGroupId],
    // A daily snapshot kept one day: the counts survive even losing both nodes.
    snapshotRetentionLimit: 1,
    applyImmediately: true,
    ...(a.tags ? { tags: a.tags } : {}),
  };
}

export class LimitStore extends pulumi.ComponentResource {
  readonly replicationGroup: aws.elasticache.ReplicationGroup;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly subnetGroup: aws.elasticache.SubnetGroup;
  /** The primary endpoint's host name (failover moves it to the new primary). */
  readonly host: pulumi.Output<string>;
  readonly port: number = LIMIT_STORE.port;

  constructor(name: string, args: LimitStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:cluster:LimitStore", name, {}, opts);
    const o = { parent: this };
    this.subnetGroup = new aws.elasticache.SubnetGroup(
      `${name}-subnets`,
      {
        description: `${name}: private subnets`,
        subnetIds: args.privateSubnetIds,
        ...(args.tags ? { tags: args.tags } : {}),
      },
      o,
    );
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: `${name}: Valkey from the cluster's nodes only`,
        ingress: [
          {
            protocol: "tcp",
            fromPort: LIMIT_STORE.port,
            toPort: LIMIT_STORE.port,
            securityGroups: [args.nodeSecurityGroupId],
            description: "gateway pods (on the cluster's nodes)",
          },
        ],
        ...(args.tags ? { tags: args.tags } : {}),
      },
      o,
    );
    this.replicationGroup = new aws.elasticache.ReplicationGroup(
      `${name}-valkey`,
      limitStoreGroupArgs(name, args, {
        subnetGroupName: this.subnetGroup.name,
        securityGroupId: this.securityGroup.id,
      }),
      o,
    );
    this.host = this.replicationGroup.primaryEndpointAddress;
    this.registerOutputs({ host: this.host });
  }
}
