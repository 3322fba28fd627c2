// A Pulumi program that fails while it is evaluated, for test/plan-errors.test.ts: the error must name this file
// and the TypeScript line of the throw, although `npm run plan` evaluates programs with source maps off.
import * as pulumi from "@pulumi/pulumi";

interface Sizing {
  readonly replicas: number;
}

function checkedReplicas(s: Sizing): number {
  if (s.replicas > 2) throw new Error(`replicas ${s.replicas} is more than this program allows`);
  return s.replicas;
}

export const replicas = pulumi.output(checkedReplicas({ replicas: 3 }));
