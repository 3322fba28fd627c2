import { profileOf } from "../../config/environments";
import { problem } from "../../config/errors";
import type { IngressConfig } from "../../config/ingress";
import type { PlatformConfig } from "../../config/schema";
import { planRoutes } from "../../ingress/routes";
import { secretSetCommand } from "../secret-commands";
import { closest } from "../../config/suggest";
import type { Rule, RuleProblem } from "./types";

type Config = Partial<PlatformConfig>;

export const ingressRules: Rule = (config) => {
  const { environment, ingress } = config;
  if (!environment || !ingress || !ingress.enabled) return [];
  return [
    ...hostProblems(config, ingress),
    ...plainHttpProblems(config, ingress),
    ...apiKeyProblems(config),
    ...acmeReachabilityProblems(ingress),
    ...(config.models ? planRoutes(config.models, ingress).problems : []),
    ...modelRateLimitProblems(config, ingress),
  ];
};

function hostProblems(config: Config, ingress: IngressConfig): RuleProblem[] {
  if (ingress.host) return [];
  const at = ["ingress", "host"];
  if (profileOf(config.environment!).cloud)
    return [
      problem(
        at,
        undefined,
        "a cloud stack needs the host name clients call",
        'set ingress.host, e.g. "retrieval.example.com"',
      ),
    ];
  // Locally, only a certificate needs a host.
  if (ingress.tls.mode === "none") return [];
  return [
    problem(
      at,
      undefined,
      `tls.mode ${ingress.tls.mode} needs the host name the certificate is for`,
      "set ingress.host, or use tls.mode: none in the local stack",
    ),
  ];
}

function plainHttpProblems(config: Config, ingress: IngressConfig): RuleProblem[] {
  if (profileOf(config.environment!).allowPlainHttp || ingress.tls.mode !== "none") return [];
  return [
    problem(
      ["ingress", "tls", "mode"],
      "none",
      `${config.environment} must not serve API keys over plain HTTP`,
      "set tls.mode to acme (with email), privateCa (with caSecretName) or secret (with secretName)",
    ),
  ];
}

function apiKeyProblems(config: Config): RuleProblem[] {
  if (!profileOf(config.environment!).cloud || !config.secrets || config.secrets.apiKeys?.length) return [];
  return [
    problem(
      ["apiKeys"],
      undefined,
      `${config.environment} exposes models through the ingress, which needs at least one API key`,
      secretSetCommand("apiKeys"),
    ),
  ];
}

function modelRateLimitProblems(config: Config, ingress: IngressConfig): RuleProblem[] {
  // A model that failed to parse leaves a hole: its name is unknown, so no rate limit can be called stale.
  if (!config.models || Object.keys(config.models).length !== config.models.length) return [];
  const names = config.models.map((m) => m.name);
  return Object.keys(ingress.modelRateLimits)
    .filter((key) => !names.includes(key))
    .map((key) => {
      const near = closest(key, names);
      return problem(
        ["ingress", "modelRateLimits", key],
        key,
        "is not the name of a model in this stack",
        `${near ? `did you mean "${near}"? ` : ""}use one of ${names.map((n) => `"${n}"`).join(", ")}`,
      );
    });
}

/** ACME directories on the public internet: their HTTP-01 validators connect from addresses they do not publish. */
const PUBLIC_ACME_HOSTS = [
  "acme-v02.api.letsencrypt.org",
  "acme-staging-v02.api.letsencrypt.org",
  "acme.zerossl.com",
  "dv.acme-v02.api.pki.goog",
];

/**
 * HTTP-01 through an internal load balancer, or behind a source allow-list, never completes with a public ACME
 * server: the certificate is never issued and HTTPS never works. Refuse it up front instead of half-applying.
 */
function acmeReachabilityProblems(ingress: IngressConfig): RuleProblem[] {
  const tls = ingress.tls;
  if (tls.mode !== "acme") return [];
  const host = new URL(tls.server).hostname;
  if (!PUBLIC_ACME_HOSTS.includes(host)) return [];
  const blocked =
    ingress.exposure === "internal"
      ? {
          key: "exposure",
          value: ingress.exposure,
          why: "an internal load balancer cannot be reached from the internet",
        }
      : ingress.allowedSourceCidrs.length > 0
        ? {
            key: "allowedSourceCidrs",
            value: ingress.allowedSourceCidrs,
            why: "a source allow-list blocks its validators, which connect from addresses it does not publish",
          }
        : undefined;
  if (!blocked) return [];
  return [
    problem(
      ["ingress", blocked.key],
      blocked.value,
      `tls.mode acme with ${host} validates HTTP-01 from the internet, and ${blocked.why}: ` +
        "the certificate would never be issued",
      "use tls.mode privateCa (your CA) or secret (your certificate), or an ACME server inside your network " +
        "(tls.server), or exposure internet-facing with no allowedSourceCidrs",
    ),
  ];
}
