// What changes between two plans (`npm run plan -- --against <dir|ref>`): read from the files a plan writes, so
// a plan of an older version (no options in resources.json, no outputs.json) can still be compared.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

export interface PlanSnapshot {
  /** Resources by URN: type, name, inputs and (when recorded) options, secrets already redacted. */
  readonly resources: ReadonlyMap<string, { type: string; name: string; inputs: unknown; options?: unknown }>;
  /** "AlertName (scope)" of every rendered alert rule. */
  readonly alerts: ReadonlySet<string>;
  /** Public URLs of the ingress routes. */
  readonly urls: ReadonlySet<string>;
  /** From plan.md's headlines; undefined when the plan has none (no GPUs, no EKS). */
  readonly gpus?: { min: number; max: number };
  readonly usdPerMonth?: { min: number; max: number };
}

export interface FieldChange {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface PlanDiff {
  readonly added: { urn: string; type: string; name: string }[];
  readonly removed: { urn: string; type: string; name: string }[];
  readonly changed: { urn: string; type: string; name: string; fields: FieldChange[] }[];
  readonly gpus: { before?: { min: number; max: number }; after?: { min: number; max: number } };
  readonly usdPerMonth: { before?: { min: number; max: number }; after?: { min: number; max: number } };
  readonly alerts: { added: string[]; removed: string[] };
  readonly urls: { added: string[]; removed: string[] };
}

/** The parts of the manifests the diff reads: PrometheusRule groups, VirtualServer routes, Ingress rules. */
interface ManifestDoc {
  kind?: string;
  spec?: {
    groups?: { rules?: { alert?: string; labels?: Record<string, string> }[] }[];
    host?: string;
    tls?: unknown;
    routes?: { path?: unknown }[];
    rules?: { host?: string; http?: { paths?: { path?: string }[] } }[];
  };
}

const num = (s: string) => Number(s.replace(/[$,]/g, ""));

/**
 * Makes two plans comparable: a whole resource object (how plans before URN references printed a resource input)
 * becomes its URN, and the absolute path of the checkout that rendered the plan becomes "<checkout>".
 */
function normalize(value: unknown, urnOf: (type: string, name: string) => string | undefined, root?: string): unknown {
  if (typeof value === "string")
    return root && (value === root || value.startsWith(root + path.sep))
      ? `<checkout>${value.slice(root.length)}`
      : value;
  if (Array.isArray(value)) return value.map((v) => normalize(v, urnOf, root));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (o.__pulumiResource === true && typeof o.__pulumiType === "string")
      return urnOf(o.__pulumiType, String(o.__name)) ?? `resource ${o.__pulumiType} ${String(o.__name)}`;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, normalize(v, urnOf, root)]));
  }
  return value;
}

/** Reads a plan's out directory; `checkoutRoot` is the checkout that rendered it (paths under it are compared relative). */
export function readSnapshot(dir: string, checkoutRoot?: string): PlanSnapshot {
  const resourcesFile = path.join(dir, "resources.json");
  if (!fs.existsSync(resourcesFile)) throw new Error(`${dir} holds no plan (no resources.json)`);
  const list = JSON.parse(fs.readFileSync(resourcesFile, "utf8")) as {
    urn: string;
    type: string;
    name: string;
    inputs: unknown;
    options?: unknown;
  }[];
  const urns = new Map(list.map((r) => [`${r.type}::${r.name}`, r.urn]));
  const urnOf = (type: string, name: string) => urns.get(`${type}::${name}`);
  const resources = new Map(
    list.map((r) => [
      r.urn,
      { ...r, inputs: normalize(r.inputs, urnOf, checkoutRoot), options: normalize(r.options, urnOf, checkoutRoot) },
    ]),
  );
  const alerts = new Set<string>();
  // The public URLs the stack exports (outputs.json); plans from before outputs.json: read from the routes.
  const outputsFile = path.join(dir, "outputs.json");
  const publicEndpoints = fs.existsSync(outputsFile)
    ? (JSON.parse(fs.readFileSync(outputsFile, "utf8")) as { publicEndpoints?: Record<string, string> }).publicEndpoints
    : undefined;
  const urls = new Set<string>(Object.values(publicEndpoints ?? {}));
  for (const file of walk(path.join(dir, "manifests"))) {
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as ManifestDoc | null;
    if (doc?.kind === "PrometheusRule")
      for (const g of doc.spec?.groups ?? [])
        for (const r of g.rules ?? [])
          if (r.alert) {
            const scope = r.labels?.model ?? (r.labels?.node_group ? `node group ${r.labels.node_group}` : undefined);
            alerts.add(scope ? `${r.alert} (${scope})` : r.alert);
          }
    // F5 NGINX VirtualServer: exact routes ("=/models/...") on spec.host; "/" is the catch-all 404 page.
    if (doc?.kind === "VirtualServer" && !publicEndpoints)
      for (const r of doc.spec?.routes ?? [])
        if (typeof r.path === "string" && r.path !== "/")
          urls.add(
            `${doc.spec?.tls ? "https" : "http"}://${doc.spec?.host ?? "*"}${r.path.replace(/^[=~]\*?\s*/, "")}`,
          );
    if (doc?.kind === "Ingress" && !publicEndpoints) {
      const tlsHosts = new Set<string>(((doc.spec?.tls ?? []) as { hosts?: string[] }[]).flatMap((t) => t.hosts ?? []));
      for (const rule of doc.spec?.rules ?? [])
        for (const p of rule.http?.paths ?? [])
          urls.add(`${tlsHosts.has(rule.host ?? "") ? "https" : "http"}://${rule.host ?? "*"}${p.path ?? "/"}`);
    }
  }
  const md = fs.existsSync(path.join(dir, "plan.md")) ? fs.readFileSync(path.join(dir, "plan.md"), "utf8") : "";
  const g = /\*\*GPUs: (\d+) at minimum scale, (\d+) at maximum/.exec(md);
  const c = /Total compute estimate: (\$[\d,]+) per month at minimum scale, (\$[\d,]+) at maximum/.exec(md);
  return {
    resources,
    alerts,
    urls,
    gpus: g ? { min: num(g[1]!), max: num(g[2]!) } : undefined,
    usdPerMonth: c ? { min: num(c[1]!), max: num(c[2]!) } : undefined,
  };
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .filter((f) => f.endsWith(".yaml"))
    .sort();
}

/** Every leaf path where two values differ (arrays by index). */
export function changedFields(before: unknown, after: unknown, at = ""): FieldChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object";
  if (isObj(before) && isObj(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) =>
      changedFields(before[k], after[k], Array.isArray(before) ? `${at}[${k}]` : at ? `${at}.${k}` : k),
    );
  }
  return [{ path: at, before, after }];
}

export function diffPlans(before: PlanSnapshot, after: PlanSnapshot): PlanDiff {
  const added = [...after.resources].filter(([urn]) => !before.resources.has(urn));
  const removed = [...before.resources].filter(([urn]) => !after.resources.has(urn));
  const changed = [...after.resources].flatMap(([urn, a]) => {
    const b = before.resources.get(urn);
    if (!b) return [];
    // A plan from before options were recorded has none: compare options only when both have them.
    const fields = [
      ...changedFields(b.inputs, a.inputs, "inputs"),
      ...(b.options !== undefined && a.options !== undefined ? changedFields(b.options, a.options, "options") : []),
    ];
    return fields.length ? [{ urn, type: a.type, name: a.name, fields }] : [];
  });
  const setDiff = (x: ReadonlySet<string>, y: ReadonlySet<string>) => ({
    added: [...y].filter((v) => !x.has(v)).sort(),
    removed: [...x].filter((v) => !y.has(v)).sort(),
  });
  const brief = ([urn, r]: [string, { type: string; name: string }]) => ({ urn, type: r.type, name: r.name });
  return {
    added: added.map(brief),
    removed: removed.map(brief),
    changed,
    gpus: { before: before.gpus, after: after.gpus },
    usdPerMonth: { before: before.usdPerMonth, after: after.usdPerMonth },
    alerts: setDiff(before.alerts, after.alerts),
    urls: setDiff(before.urls, after.urls),
  };
}

const short = (v: unknown) => {
  if (v === undefined) return "(unset)";
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const range = (r?: { min: number; max: number }, f: (x: number) => string = String) =>
  r ? (r.min === r.max ? f(r.min) : `${f(r.min)}–${f(r.max)}`) : "–";
const usd = (x: number) => `$${Math.round(x).toLocaleString("en-US")}`;

/** Fields listed per changed resource before the rest is summed up. */
const MAX_FIELDS = 12;

/** The diff as a plan.md section (also written alone as diff.md). */
export function renderDiff(diff: PlanDiff, against: string): string {
  const nothing =
    !diff.added.length &&
    !diff.removed.length &&
    !diff.changed.length &&
    !diff.alerts.added.length &&
    !diff.alerts.removed.length &&
    !diff.urls.added.length &&
    !diff.urls.removed.length;
  const lines = [`## What changes against \`${against}\``, ""];
  lines.push(
    `- Resources: **${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed**`,
    `- GPUs (min–max): ${range(diff.gpus.before)} -> ${range(diff.gpus.after)}`,
    `- Compute per month (min–max): ${range(diff.usdPerMonth.before, usd)} -> ${range(diff.usdPerMonth.after, usd)}`,
  );
  if (nothing) {
    lines.push("", "_No resource, alert or public URL changes._");
    return lines.join("\n");
  }
  const list = (title: string, items: string[]) =>
    items.length ? ["", `${title}:`, ...items.map((i) => `- ${i}`)] : [];
  lines.push(
    ...list(
      "Added",
      diff.added.map((r) => `\`${r.type}\` \`${r.name}\``),
    ),
    ...list(
      "Removed",
      diff.removed.map((r) => `\`${r.type}\` \`${r.name}\``),
    ),
  );
  if (diff.changed.length) {
    lines.push("", "Changed (secrets show as [secret]: a changed secret value is not visible here):", "");
    lines.push("| resource | field | before | after |", "| --- | --- | --- | --- |");
    for (const c of diff.changed) {
      const shown = c.fields.slice(0, MAX_FIELDS);
      for (const f of shown)
        lines.push(
          `| \`${c.type}\` \`${c.name}\` | \`${cell(f.path)}\` | ${cell(short(f.before))} | ${cell(short(f.after))} |`,
        );
      if (c.fields.length > shown.length)
        lines.push(`| \`${c.type}\` \`${c.name}\` | ... ${c.fields.length - shown.length} more fields | | |`);
    }
  }
  lines.push(
    ...list(
      "Alerts added",
      diff.alerts.added.map((a) => `\`${a}\``),
    ),
    ...list(
      "Alerts removed",
      diff.alerts.removed.map((a) => `\`${a}\``),
    ),
    ...list("Public URLs added", diff.urls.added),
    ...list("Public URLs removed", diff.urls.removed),
  );
  return lines.join("\n");
}

/** plan.md with the diff section placed after the overview (before the first section). */
export function withDiff(planMd: string, section: string): string {
  const i = planMd.indexOf("\n## ");
  return i < 0
    ? `${planMd.trimEnd()}\n\n${section}\n`
    : `${planMd.slice(0, i).trimEnd()}\n\n${section}\n${planMd.slice(i)}`;
}
