import { z } from "zod";
import { fixMessage } from "./errors";

/**
 * Value formats that Kubernetes, AWS or NGINX check only when a resource is created: checked here, so a typo
 * fails before anything exists. Each refusal says what is wrong and how to fix it.
 */

/** Largest value of a Kubernetes int32 field (replicas, ports): larger numbers fail the API server's schema. */
export const INT32_MAX = 2_147_483_647;

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
export function subdomainProblem(name: string): string | undefined {
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
export function suggestName(name: string): string {
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
export function cidrProblem(cidr: string): { what: string; fix: string } | undefined {
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

/** Why `ref` is not a pinned image reference `registry/repository:tag` or `...@sha256:<digest>`, or undefined. */
export function imageRefProblem(ref: string): { what: string; fix: string } | undefined {
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
  if (digest === undefined && (tag === undefined || tag === "latest" || tag.endsWith("-latest")))
    return {
      what: "must name a fixed tag or digest (not latest or no tag: it would move under you)",
      fix: `pin a release, e.g. ${example}`,
    };
  return undefined;
}

export const ImageRef = z.string().superRefine((ref, ctx) => {
  const p = imageRefProblem(ref);
  if (p) ctx.addIssue({ code: "custom", message: fixMessage(p.what, p.fix) });
});

/** A Kubernetes label key (optional DNS prefix + "/" + name of at most 63) and value (at most 63, may be empty). */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && subdomainProblem(prefix)) return `has a prefix "${prefix}" that is not a DNS subdomain`;
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(name))
    return "is not a label name (at most 63 of letters, digits, '-', '_', '.', starting and ending alphanumeric)";
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === "" || /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(value)) return undefined;
  return "is not a label value (at most 63 of letters, digits, '-', '_', '.', starting and ending alphanumeric)";
}

/**
 * Prefixes Kubernetes reserves for its core components, with their subdomains (node.kubernetes.io): Kubernetes docs
 * "Labels and Selectors" (kubernetes.io/, k8s.io/); kind PR kubernetes-sigs/kind#2877 notes both (read 2026-12-01).
 */
export const RESERVED_LABEL_PREFIXES = ["kubernetes.io", "k8s.io"] as const;

export function reservedPrefixOf(key: string): string | undefined {
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
  if (Number(m[1]) === 0) fail("is 0, which turns the body size limit off in nginx", 'set a real limit, e.g. "32m"');
});

/** An https URL (ACME directories: account keys and certificates must not travel in clear). */
export const HttpsUrl = z.url().refine((u) => u.startsWith("https://"), {
  message: fixMessage(
    "is not an https URL (ACME runs over https only)",
    'use the directory\'s https URL, e.g. "https://acme-v02.api.letsencrypt.org/directory"',
  ),
});
