// `npm run key -- --name <key-name> [--models a,b] [--rps N] [--burst N] [--daily-tokens N] [--daily-documents N]
//  [--slot N]`: makes a new API key for the gateway and prints the `pulumi config set` lines that put its hash,
// scope and limits in the stack (docs/gateway.md, "Keys: add, rotate, revoke"). The key itself is printed once
// and stored nowhere; the stack holds only its SHA-256. `pulumi up` updates the gateway's key Secret, which the
// running pods re-read within about two minutes, without a restart.
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { CONFIG_NAMESPACE } from "../components/config";

const USAGE =
  "usage: npm run key -- --name <key-name> [--models <model>[,<model>...]] [--rps N] [--burst N] [--daily-tokens N] [--daily-documents N] [--slot 0-3]";
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function usage(message: string): never {
  process.stderr.write(`key: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function positive(flag: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    usage(`--${flag} must be a positive ${integer ? "integer" : "number"}, not "${value.slice(0, 40)}"`);
  return n;
}

/** The lines for one key: hash in sha256[slot] (slots 0-3 let a key be rotated), scope, limit overrides. */
export function keyCommands(o: {
  name: string;
  sha256: string;
  slot: number;
  models?: readonly string[];
  limits?: Readonly<Record<string, number | undefined>>;
}): string[] {
  const at = `${CONFIG_NAMESPACE}:gateway.keys.${o.name}`;
  const lines = [`pulumi config set --path '${at}.sha256[${o.slot}]' ${o.sha256}`];
  (o.models ?? []).forEach((m, i) => lines.push(`pulumi config set --path '${at}.models[${i}]' ${m}`));
  for (const [k, v] of Object.entries(o.limits ?? {}))
    if (v !== undefined) lines.push(`pulumi config set --path '${at}.limits.${k}' ${v}`);
  return lines;
}

function main(): void {
  let v;
  try {
    v = parseArgs({
      options: {
        name: { type: "string" },
        models: { type: "string" },
        rps: { type: "string" },
        burst: { type: "string" },
        "daily-tokens": { type: "string" },
        "daily-documents": { type: "string" },
        slot: { type: "string", default: "0" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!v.name) usage("--name is required (the key's name in usage metrics, audit lines and limits)");
  if (!NAME.test(v.name)) usage(`--name "${v.name.slice(0, 70)}" must be a DNS label (a-z, 0-9, -), e.g. team-a`);
  const slot = Number(v.slot);
  if (!Number.isInteger(slot) || slot < 0 || slot > 3)
    usage(`--slot must be 0, 1, 2 or 3 (a key holds up to 4 hashes)`);
  const models = v.models
    ?.split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of models ?? []) if (!NAME.test(m)) usage(`--models: "${m.slice(0, 70)}" is not a model name`);
  const key = randomBytes(24).toString("hex");
  const sha256 = createHash("sha256").update(key).digest("hex");
  const limits = {
    requestsPerSecond: positive("rps", v.rps, false),
    burst: positive("burst", v.burst, true),
    dailyInputTokens: positive("daily-tokens", v["daily-tokens"], true),
    dailyDocuments: positive("daily-documents", v["daily-documents"], true),
  };
  const out = [
    `# The key for ${v.name} (shown once, stored nowhere; hand it over through your secret store):`,
    `#   ${key}`,
    `# Its hash, scope and limits in the stack (the key itself never is), then \`pulumi up\`:`,
    ...keyCommands({ name: v.name, sha256, slot, ...(models ? { models } : {}), limits }),
    "# Running gateways re-read their key Secret: the key works within about two minutes, no restart.",
    `# Rotate: run again with --slot ${(slot + 1) % 4}, move the clients, then remove sha256[${slot}]; revoke:`,
    `#   pulumi config rm --path '${CONFIG_NAMESPACE}:gateway.keys.${v.name}' && pulumi up`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

if (require.main === module) main();
