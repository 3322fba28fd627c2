import { z } from "zod";
import { fixMessage, shownText } from "./errors";

/**
 * Value formats that Kubernetes, AWS or NGINX check only when a resource is created: checked here, so a typo
 * fails before anything exists. Each refusal says what is wrong and how to fix it.
 */

/** Largest value of a Kubernetes int32 field (replicas, ports): larger numbers fail the API server's schema. */
const INT32_MAX = 2_147_483_647;

/** A whole number 0..INT32_MAX, for fields that end up in an int32 Kubernetes field. */
export const Int32 = z
  .number()
  .int()
  .nonnegative()
  .max(INT32_MAX, {
    message: fixMessage(
      `is beyond ${INT32_MAX}, the largest number the Kubernetes field takes`,
      "use a smaller number",
    ),
  });

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` is not a DNS-1123 subdomain (Secret, ConfigMap names), or undefined. */
function subdomainProblem(name: string): string | undefined {
  if (name.length > 253) return `is ${name.length} characters; Kubernetes names have at most 253`;
  if (!name.split(".").every((l) => DNS1123_LABEL.test(l) && l.length <= 63))
    return "is not a Kubernetes object name (lowercase letters, digits, '-' and '.', starting and ending alphanumeric)";
  return undefined;
}

/** The name of a Kubernetes object this stack refers to (a Secret), as the API server checks it. */
export const ObjectName = z.string().superRefine((name, ctx) => {
  const why = subdomainProblem(name);
  if (why)
    ctx.addIssue({
      code: "custom",
      message: fixMessage(why, `use the Secret's name as \`kubectl get secret\` shows it, e.g. "${suggestName(name)}"`),
    });
});

/** A lowercase, hyphenated version of a name, for the fixes. */
function suggestName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 63);
  return s || "my-secret";
}

/** A public DNS host name: labels of at most 63 characters, at most 253 in all (RFC 1035). */
export const HostName = z.string().superRefine((host, ctx) => {
  const fail = (what: string, fix: string) => ctx.addIssue({ code: "custom", message: fixMessage(what, fix) });
  if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/.test(host))
    return fail("is not a DNS host name", 'write a lowercase name such as "retrieval.example.com"');
  const long = host.split(".").find((l) => l.length > 63);
  if (long)
    return fail(
      `has a label of ${long.length} characters ("${long.slice(0, 20)}..."); DNS allows 63`,
      "shorten that label",
    );
  if (host.length > 253) fail(`is ${host.length} characters; DNS names have at most 253`, "use a shorter host name");
});

/** Why `cidr` is not an IPv4 CIDR block, or undefined. Host bits set (10.0.0.1/8) are refused with the network. */
function cidrProblem(cidr: string): { what: string; fix: string } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return { what: "is not an IPv4 CIDR", fix: 'write address/prefix such as "10.0.0.0/8"' };
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  const bad = octets.find((o) => o > 255);
  if (bad !== undefined)
    return { what: `has an octet of ${bad}; each is 0-255`, fix: 'correct the address, e.g. "10.0.0.0/8"' };
  if (m.slice(1, 5).some((o) => o.length > 1 && o.startsWith("0")))
    return { what: "has an octet with a leading zero (read as octal by some tools)", fix: "drop the leading zeros" };
  if (prefix > 32)
    return { what: `has a prefix of /${prefix}; IPv4 prefixes are /0 to /32`, fix: "use /32 for one address" };
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network !== address) {
    const n = [24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join(".");
    return {
      what: `has host bits set (the network of this prefix is ${n}/${prefix})`,
      fix: `write "${n}/${prefix}", or a longer prefix for a smaller block`,
    };
  }
  return undefined;
}

/** An IPv4 CIDR block, checked the way AWS and Kubernetes read it. */
export const Cidr = z.string().superRefine((cidr, ctx) => {
  const p = cidrProblem(cidr);
  if (p) ctx.addIssue({ code: "custom", message: fixMessage(p.what, p.fix) });
});

/** An OCI image tag (distribution spec): at most 128 characters of [A-Za-z0-9_.-], not starting with . or -. */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Tags that move under you, in any case: `latest` and the rolling build channels engines publish. A fixed release
 * tag (v0.11.0, 1.8, cuda-12.4-v0.9.1) never equals or ends with one of them.
 */
export const MOVING_TAGS = [
  "latest",
  "nightly",
  "main",
  "master",
  "dev",
  "edge",
  "head",
  "unstable",
  "stable",
] as const;

export function movingTagOf(tag: string): string | undefined {
  const t = tag.toLowerCase();
  return MOVING_TAGS.find((m) => t === m || t.endsWith(`-${m}`));
}

/** Why `ref` is not a pinned image reference `registry/repository:tag` or `...@sha256:<digest>`, or undefined. */
function imageRefProblem(ref: string): { what: string; fix: string } | undefined {
  const example = '"ghcr.io/acme/retrieval-verifier:0.1.0"';
  const [nameAndTag, digest, extra] = ref.split("@");
  if (extra !== undefined) return { what: "has two digests", fix: `keep one, e.g. ${example}` };
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest))
    return { what: "has a digest that is not sha256:<64 hex digits>", fix: "copy the digest from the registry" };
  const slash = nameAndTag!.lastIndexOf("/");
  const lastPart = nameAndTag!.slice(slash + 1);
  const colons = lastPart.split(":").length - 1;
  if (colons > 1) return { what: "has two tags", fix: `keep one tag, e.g. ${example}` };
  const [repoLast, tag] = lastPart.split(":");
  const repository = `${nameAndTag!.slice(0, slash + 1)}${repoLast}`;
  const parts = repository.split("/");
  const registry = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!) ? parts.shift() : undefined;
  if (registry !== undefined && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(registry))
    return { what: `has a registry "${registry}" that is not a host[:port]`, fix: `write e.g. ${example}` };
  if (!parts.every((p) => /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/.test(p)))
    return {
      what: "has a repository path with upper case or characters registries refuse",
      fix: `write the repository in lowercase, e.g. ${example}`,
    };
  if (tag !== undefined && !TAG.test(tag))
    return {
      what:
        tag.length > 128
          ? `has a tag of ${tag.length} characters (at most 128)`
          : `has a tag "${tag}" registries refuse`,
      fix: "use a release tag such as 0.1.0",
    };
  if (digest === undefined && (tag === undefined || movingTagOf(tag) !== undefined))
    return {
      what: `must name a fixed tag or digest (not ${tag === undefined ? "no tag" : `"${tag}"`}: it would move under you)`,
      fix: `pin a release, e.g. ${example}`,
    };
  return undefined;
}

export const ImageRef = z.string().superRefine((ref, ctx) => {
  const p = imageRefProblem(ref);
  if (p) ctx.addIssue({ code: "custom", message: fixMessage(p.what, p.fix) });
});

/** A Kubernetes label key (optional DNS prefix + "/" + name of at most 63) and value (at most 63, may be empty). */
function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && subdomainProblem(prefix)) return `has a prefix "${prefix}" that is not a DNS subdomain`;
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(name))
    return "is not a label name (at most 63 of letters, digits, '-', '_', '.', starting and ending alphanumeric)";
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  if (value === "" || /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(value)) return undefined;
  return "is not a label value (at most 63 of letters, digits, '-', '_', '.', starting and ending alphanumeric)";
}

/**
 * Prefixes Kubernetes reserves for its core components, with their subdomains (node.kubernetes.io): Kubernetes docs
 * "Labels and Selectors" (kubernetes.io/, k8s.io/); kind PR kubernetes-sigs/kind#2877 notes both (read 2026-12-01).
 */
const RESERVED_LABEL_PREFIXES = ["kubernetes.io", "k8s.io"] as const;

function reservedPrefixOf(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  if (slash < 0) return undefined;
  const prefix = key.slice(0, slash);
  return RESERVED_LABEL_PREFIXES.find((r) => prefix === r || prefix.endsWith(`.${r}`));
}

export const NodeLabels = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    const fail = (what: string, fix: string) =>
      ctx.addIssue({ code: "custom", path: [key], message: fixMessage(what, fix) });
    const keyWhy = labelKeyProblem(key);
    const reserved = reservedPrefixOf(key);
    if (keyWhy) fail(`the key ${keyWhy}`, 'use a key such as "team" or "example.com/team"');
    else if (reserved)
      fail(`uses the prefix ${reserved}/, reserved for Kubernetes`, "use your own prefix, e.g. example.com/");
    const valueWhy = labelValueProblem(value);
    if (valueWhy) fail(`the value ${valueWhy}`, 'use a value such as "search-team"');
  }
});

/** One CLI argument: no control characters (a newline in an argument breaks the container's command line). */
export const CliArg = z.string().refine((a) => !/[\u0000-\u001f\u007f]/.test(a), {
  message: fixMessage(
    "holds a control character (newline, tab, ...)",
    "write each flag and value as its own list item",
  ),
});

/** An nginx size ("32m"): 0 turns the limit off in nginx, so it is refused. */
export const NginxSize = z.string().superRefine((s, ctx) => {
  const fail = (what: string, fix: string) => ctx.addIssue({ code: "custom", message: fixMessage(what, fix) });
  const m = /^([0-9]+)([km])$/.exec(s);
  if (!m) return fail("is not an nginx size", 'write a number with k or m, e.g. "32m"');
  if (Number(m[1]) === 0)
    return fail("is 0, which turns the body size limit off in nginx", 'set a real limit, e.g. "32m"');
  const mib = Number(m[1]) / (m[2] === "k" ? 1024 : 1);
  if (mib > 1024)
    fail(
      "is above 1024m (1 GiB): nginx would buffer request bodies that large to disk, and no embed or rerank call needs it",
      'use e.g. "32m"',
    );
});

/**
 * Characters that must never reach a rendered value: C0 and C1 control characters, DEL and the Unicode line and
 * paragraph separators. A URL parser silently drops some of them (tabs, newlines), so the value that is checked
 * and the value that is rendered would differ; YAML and Go templates read others as structure.
 */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const controlCharacterMessage = fixMessage(
  "holds a control character (newline, tab, NUL, ...), which the value would carry into rendered config",
  "write it on one line without control characters",
);

/** A string with no control characters, at most `max` characters. */
export function safeString(max = 253) {
  return z
    .string()
    .max(max, { message: fixMessage(`is longer than ${max} characters`, "shorten it") })
    .refine((s) => !CONTROL_CHARACTER.test(s), { message: controlCharacterMessage });
}

interface Range {
  readonly min: number;
  readonly max: number;
  /** min itself is refused (a rate, a ratio: 0 would mean "never" or "off"). */
  readonly aboveMin?: boolean;
  readonly int?: boolean;
  /** Unit after the numbers in the message, e.g. " ms". */
  readonly unit?: string;
  /** Why a value above max is wrong, e.g. "no request waits that long, so the alert could never fire". */
  readonly tooHigh: string;
  /** Why a value below min is wrong; default: "is below <min>". */
  readonly tooLow?: string;
}

/**
 * A number bounded to the range in which it still means what its key says: a threshold an alert can reach, a
 * size a node can hold, a target KEDA can turn into a quantity. Each refusal names the range and why.
 */
export function bounded(r: Range) {
  const unit = r.unit ?? "";
  const range = `${r.aboveMin ? "above" : "from"} ${r.min}${unit} ${r.aboveMin ? "and at most" : "to"} ${r.max}${unit}`;
  const low = r.tooLow ?? `is ${r.aboveMin ? "at or below" : "below"} ${r.min}${unit}`;
  let n = z.number();
  if (r.int) n = n.int({ message: fixMessage("is not a whole number", `write a whole number ${range}`) });
  n = r.aboveMin
    ? n.gt(r.min, { message: fixMessage(low, `use a value ${range}`) })
    : n.min(r.min, { message: fixMessage(low, `use a value ${range}`) });
  return n.max(r.max, { message: fixMessage(`is above ${r.max}${unit}: ${r.tooHigh}`, `use a value ${range}`) });
}

/** A latency in ms an alert can reach: requests are cut by the ingress and gateway timeouts (at most 3600 s). */
export const LatencyMs = bounded({
  min: 1,
  max: 3_600_000,
  aboveMin: false,
  unit: " ms",
  tooHigh: "no request runs that long (every timeout of the stack is at most 3600 s), so the alert could never fire",
});

/** Seconds in one unit of a Prometheus duration (y = 365 days, as Prometheus counts it). */
const DURATION_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
  y: 31536000,
};

/** The length of a Prometheus duration ("15d") in seconds, or undefined when it is not one. */
function durationSeconds(text: string): number | undefined {
  const m = /^([0-9]+)(ms|s|m|h|d|w|y)$/.exec(text);
  return m ? Number(m[1]) * DURATION_SECONDS[m[2]!]! : undefined;
}

const formatSeconds = (s: number) =>
  s % 31536000 === 0
    ? `${s / 31536000}y`
    : s % 86400 === 0
      ? `${s / 86400}d`
      : s % 3600 === 0
        ? `${s / 3600}h`
        : `${s}s`;

/**
 * A Prometheus duration ("5m") from `min` to `max` seconds. Go parses durations into int64 nanoseconds (about 292
 * years), and a bound far below that also keeps S3 lifecycle days and Loki hours realistic.
 */
export function durationIn(min: number, max: number, tooHigh: string) {
  const range = `${min === 0 ? "0s" : formatSeconds(min)} to ${formatSeconds(max)}`;
  return z
    .string()
    .regex(/^[0-9]{1,30}(ms|s|m|h|d|w|y)$/, {
      message: fixMessage("is not a Prometheus duration", 'write e.g. "5m", "1h" or "15d"'),
    })
    .superRefine((text, ctx) => {
      const s = durationSeconds(text)!;
      if (s < min)
        ctx.addIssue({
          code: "custom",
          message: fixMessage(s === 0 ? "is zero" : `is shorter than ${formatSeconds(min)}`, `use ${range}`),
        });
      else if (s > max)
        ctx.addIssue({
          code: "custom",
          message: fixMessage(`is longer than ${formatSeconds(max)}: ${tooHigh}`, `use ${range}`),
        });
    });
}

/** Bytes in one binary memory unit. */
const BINARY_UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** A CPU quantity ("500m", "2") in millicores, or undefined. */
export function cpuMillis(q: string): number | undefined {
  const m = /^([0-9]{1,9})m$|^([0-9]{1,9}(\.[0-9]{1,9})?)$/.exec(q);
  if (!m) return undefined;
  return m[1] !== undefined ? Number(m[1]) : Number(m[2]) * 1000;
}

/** A binary memory quantity ("16Gi") in bytes, or undefined. */
export function memoryBytes(q: string): number | undefined {
  const m = /^([0-9]{1,12})(Ki|Mi|Gi|Ti)$/.exec(q);
  return m ? Number(m[1]) * BINARY_UNITS[m[2]!]! : undefined;
}

/** Most CPU one container may ask for: larger than any EC2 instance (448 vCPU u7i), so a typo. */
const MAX_CPU_MILLIS = 448_000;
/** Most memory one container may ask for: 24 TiB, the largest EC2 instance's memory, so a typo beyond. */
const MAX_MEMORY_BYTES = 24 * 2 ** 40;

/** A CPU request: at least 1m (Kubernetes' smallest CPU unit), at most MAX_CPU_MILLIS. */
export const CpuRequest = z.string().superRefine((q, ctx) => {
  const fail = (what: string, fix: string) => ctx.addIssue({ code: "custom", message: fixMessage(what, fix) });
  const millis = cpuMillis(q);
  if (millis === undefined) return fail("is not a CPU quantity", 'write e.g. "500m" or "4"');
  if (millis < 1)
    return fail(
      millis === 0
        ? "is 0: a container with no CPU request is scheduled anywhere"
        : "is below 1m, Kubernetes' smallest CPU unit",
      'ask for what the engine needs, e.g. "500m" or "2"',
    );
  if (millis > MAX_CPU_MILLIS)
    fail(`is above ${MAX_CPU_MILLIS / 1000} CPUs, more than any node has`, 'ask for what the engine needs, e.g. "4"');
});

/** A memory request and limit: at least 16Mi (0 would mean no limit at all), at most 24Ti. */
export const MemoryRequest = z.string().superRefine((q, ctx) => {
  const fail = (what: string, fix: string) => ctx.addIssue({ code: "custom", message: fixMessage(what, fix) });
  const bytes = memoryBytes(q);
  if (bytes === undefined) return fail("is not a memory quantity with a binary unit", 'write e.g. "512Mi" or "16Gi"');
  if (bytes < 16 * 2 ** 20)
    return fail(
      bytes === 0
        ? "is 0, and a zero memory limit is no limit at all"
        : "is below 16Mi, less than any engine starts in",
      'give what the model needs, e.g. "2Gi"',
    );
  if (bytes > MAX_MEMORY_BYTES) fail("is above 24Ti, more than any node has", 'give what the model needs, e.g. "16Gi"');
});

const schemesText = (schemes: readonly string[]) =>
  schemes.length === 2 && schemes.includes("http") && schemes.includes("https") ? "http(s)" : schemes.join(" or ");

/** The instance metadata service (IMDS) and other link-local addresses: never a place to fetch config from. */
function isLinkLocal(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return /^169\.254\./.test(h) || h.startsWith("fe80:") || h === "fd00:ec2::254";
}

interface SafeUrlOptions {
  /** Accepted schemes, e.g. ["https"]. */
  readonly schemes: readonly string[];
  /** What the URL is for, in the fix: 'the issuer\'s https URL, e.g. "https://login.example.com/"'. */
  readonly example: string;
}

/**
 * An absolute URL exactly as it will be rendered: no control characters or spaces (which URL parsers drop or
 * rewrite, so the checked and the rendered URL would differ), one of the given schemes, and not a link-local
 * address (the instance metadata service). At most 2,048 characters.
 */
export function safeUrl(o: SafeUrlOptions) {
  return z.string().superRefine((raw, ctx) => {
    const fail = (what: string, fix: string) => ctx.addIssue({ code: "custom", message: fixMessage(what, fix) });
    if (CONTROL_CHARACTER.test(raw) || /\s/.test(raw))
      return fail(
        "holds a control character or a space, which URL parsers silently drop or rewrite",
        `write the URL on one line, e.g. ${o.example}`,
      );
    if (raw.length > 2048) return fail("is longer than 2048 characters", `use a shorter URL, e.g. ${o.example}`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return fail("is not an absolute URL", `write e.g. ${o.example}`);
    }
    const scheme = url.protocol.replace(/:$/, "");
    if (!o.schemes.includes(scheme))
      return fail(
        `is not an ${schemesText(o.schemes)} URL: "${shownText(scheme, 20)}:" is a scheme other than ${schemesText(o.schemes)}`,
        `use an ${o.schemes[0]} URL, e.g. ${o.example}`,
      );
    if (!url.hostname) return fail("has no host", `write e.g. ${o.example}`);
    if (isLinkLocal(url.hostname))
      fail(
        `points at ${url.hostname}, a link-local address (the instance metadata service), not a service of yours`,
        `write e.g. ${o.example}`,
      );
  });
}

/**
 * An https URL (ACME directories: account keys and certificates must not travel in clear), exactly as rendered.
 */
export const HttpsUrl = safeUrl({
  schemes: ["https"],
  example: '"https://acme-v02.api.letsencrypt.org/directory" (ACME runs over https only)',
});
