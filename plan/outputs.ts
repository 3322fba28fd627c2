import * as pulumi from "@pulumi/pulumi";
import { REDACTED } from "./redact";

/**
 * The stack outputs the program exports, as `pulumi stack output --json` prints them after a deploy: secret
 * outputs as "[secret]" (as without --show-secrets), values that only a real deploy knows (ids, endpoints) as the
 * offline runtime's placeholders (plan/mock-outputs.ts). `verify --stack-outputs out/<stack>/outputs.json` reads it.
 */
export async function stackOutputs(program: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    if (key === "default" || key === "__esModule" || typeof value === "function") continue;
    const o = pulumi.output(value as pulumi.Input<unknown>) as pulumi.Output<unknown>;
    if (await pulumi.isSecret(o)) {
      out[key] = REDACTED;
      continue;
    }
    const resolved = await new Promise<unknown>((resolve) => o.apply((v) => resolve(v)));
    // `pulumi stack output` leaves out outputs whose value is undefined.
    if (resolved !== undefined) out[key] = JSON.parse(JSON.stringify(resolved)) as unknown;
  }
  return out;
}
