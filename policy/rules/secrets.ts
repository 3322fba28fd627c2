import {
  asArray,
  asObject,
  asString,
  containersOf,
  describe,
  get,
  isHelmRelease,
  isK8sObject,
  kindOf,
  podTemplatesOf,
  stringsIn,
} from "./k8s";
import type { ResourceRule } from "./types";

/**
 * Credentials that have a recognisable shape. A match outside a Secret is a credential in clear: in the pod spec
 * (`kubectl get -o yaml` shows it), in state and in the preview diff. Values are never echoed in messages.
 */
export const CREDENTIAL_PATTERNS: readonly { readonly what: string; readonly re: RegExp }[] = [
  { what: "a Hugging Face token", re: /\bhf_[A-Za-z0-9]{30,}\b/ },
  { what: "an OpenAI-style API key", re: /\bsk-[A-Za-z0-9_-]{20,}/ },
  { what: "an AWS access key id", re: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { what: "a GitHub token", re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { what: "a Slack webhook URL", re: /hooks\.slack\.com\/services\/[A-Za-z0-9]+\/[A-Za-z0-9]+/ },
  { what: "a WeCom webhook key", re: /qyapi\.weixin\.qq\.com\/cgi-bin\/webhook\/send\?key=[A-Za-z0-9-]{8,}/ },
  { what: "a DingTalk access token", re: /oapi\.dingtalk\.com\/robot\/send\?access_token=[A-Za-z0-9]{8,}/ },
  { what: "a private key", re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { what: "a literal bearer token", re: /\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/ },
  { what: "a URL with a password", re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/$]{3,}@/ },
];

export function credentialIn(value: string): string | undefined {
  return CREDENTIAL_PATTERNS.find((p) => p.re.test(value))?.what;
}

/** Environment variable or config key names that carry a secret ("HF_TOKEN", "api-key"), not "MAX_BATCH_TOKENS". */
export const SECRET_NAME =
  /(^|[-_.])(token|password|passwd|secret|api[-_]?keys?|access[-_]?key|private[-_]?key|credentials?)$/i;

/** Keys that name a Kubernetes Secret object rather than hold a secret value (existingSecret, configSecret, tlsSecretName...). */
export const SECRET_REFERENCE =
  /^(existing|config|tls|env|auth)?Secret(Name|Ref)?$|SecretName$|SecretRef$|^secretName$/;

/** SECRET_NAME for camelCase keys too ("adminPassword" -> "admin_Password"). */
export const looksSecretNamed = (name: string): boolean =>
  SECRET_NAME.test(name.replace(/([a-z0-9])([A-Z])/g, "$1_$2"));

/**
 * A ConfigMap key named like a secret ("API_KEY", "api-keys.conf", "db-password.txt") is refused. A file named
 * after something else that happens to end in a secret word ("rs-model-retrieval-api-keys.json": the dashboard of a
 * model called retrieval-api-keys) is not: a file key may carry at most one qualifier before the secret word. Its
 * contents are checked for credential shapes like every other string.
 */
function namesASecretValue(key: string): boolean {
  const isFile = /\.[a-z0-9]+$/i.test(key);
  const base = key.replace(/\.[a-z0-9]+$/i, "").replace(/([a-z0-9])([A-Z])/g, "$1_$2");
  const match = SECRET_NAME.exec(base);
  if (!match) return false;
  const qualifiers = base.slice(0, match.index).split(/[-_.]/).filter(Boolean).length;
  return !isFile || qualifiers <= 1;
}

export const noSecretsInPlainConfig: ResourceRule = {
  scope: "resource",
  name: "no-plain-secrets",
  description:
    "No credential in a plain field: env vars named like secrets use valueFrom.secretKeyRef; no token-shaped string outside a Secret; ConfigMaps hold no secret-named keys; Secrets use stringData with a secret Output, not data.",
  enforcementLevel: "mandatory",
  rationale:
    "A secret in a pod spec or ConfigMap is readable by everyone who can read the namespace, is stored unencrypted in etcd and in Pulumi state, and shows in every preview diff; it cannot be rotated without a redeploy.",
  remediation:
    "Put the value in a Kubernetes Secret built with stringData from the pulumi secret Output (SecretInputs in components/config/secrets.ts, made by components/validation/load.ts) and reference it with env[].valueFrom.secretKeyRef or a volume.",
  validate(resource) {
    if (!isK8sObject(resource)) return [];
    const out: string[] = [];
    const kind = kindOf(resource);
    if (kind === "Secret") {
      if (Object.keys(asObject(resource.props.data) ?? {}).length)
        out.push(
          `${describe(resource)} sets data (base64 built in the program, visible in state); use stringData with a pulumi secret Output.`,
        );
      return out;
    }
    for (const t of podTemplatesOf(resource)) {
      for (const c of containersOf(t)) {
        for (const e of asArray(c.container.env)) {
          const env = asObject(e) ?? {};
          const name = asString(env.name) ?? "";
          const value = env.value;
          if (looksSecretNamed(name) && typeof value === "string" && value !== "")
            out.push(
              `${describe(resource)} container "${c.name}" sets env ${name} to a literal value; use valueFrom.secretKeyRef.`,
            );
        }
      }
    }
    if (kind === "ConfigMap") {
      for (const key of [
        ...Object.keys(asObject(resource.props.data) ?? {}),
        ...Object.keys(asObject(resource.props.binaryData) ?? {}),
      ])
        if (namesASecretValue(key))
          out.push(`${describe(resource)} has a key "${key}" that names a secret; put it in a Secret.`);
    }
    for (const [path, value] of stringsIn(resource.props)) {
      const what = credentialIn(value);
      if (what) out.push(`${describe(resource)} has ${what} in clear at ${path}.`);
    }
    return out;
  },
};

export const helmValuesHoldNoCredentials: ResourceRule = {
  scope: "resource",
  name: "helm-values-no-credentials",
  description: "Helm release values hold no token-shaped strings and no literal values under secret-named keys.",
  enforcementLevel: "advisory",
  rationale:
    "Advisory: a pulumi secret Output passed into values is encrypted in state and legitimate (e.g. an Alertmanager receiver URL), but a policy cannot tell it from a literal once the engine has unwrapped it; a reviewer checks that the value came from a secret.",
  remediation:
    "Pass credentials as pulumi secret Outputs, or better, reference an existing Kubernetes Secret (most charts take `existingSecret`).",
  validate(resource) {
    if (!isHelmRelease(resource)) return [];
    const out: string[] = [];
    for (const [path, value] of stringsIn(get(resource.props, "values"), "values")) {
      const what = credentialIn(value);
      const key = path.slice(path.lastIndexOf(".") + 1).replace(/\[\d+\]$/, "");
      if (what) out.push(`${describe(resource)} has ${what} at ${path}.`);
      else if (looksSecretNamed(key) && !SECRET_REFERENCE.test(key) && value !== "" && value !== "[secret]")
        out.push(
          `${describe(resource)} sets ${path}, a secret-named key, to a literal; make sure it comes from a pulumi secret.`,
        );
    }
    return out;
  },
};
