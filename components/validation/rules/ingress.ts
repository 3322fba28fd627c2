import { profileOf } from "../../config/environments";
import { planRoutes } from "../../ingress/routes";
import type { Rule, RuleProblem } from "./types";

export const ingressRules: Rule = (config) => {
  const out: RuleProblem[] = [];
  const { environment, ingress } = config;
  if (!environment || !ingress || !ingress.enabled) return out;
  const profile = profileOf(environment);
  if (profile.cloud && !ingress.host)
    out.push({
      path: ["ingress", "host"],
      value: undefined,
      message: `a cloud stack needs the host name clients call. Fix: set ingress.host, e.g. "retrieval.example.com".`,
    });
  if (!profile.allowPlainHttp && ingress.tls.mode === "none")
    out.push({
      path: ["ingress", "tls", "mode"],
      value: "none",
      message: `${environment} must not serve API keys over plain HTTP. Fix: set tls.mode to acme (with email), privateCa (with caSecretName) or secret (with secretName).`,
    });
  if (profile.cloud && config.secrets && !config.secrets.apiKeys?.length)
    out.push({
      path: ["apiKeys"],
      value: undefined,
      message: `${environment} exposes models through the ingress, which needs at least one API key. Fix: pulumi config set --secret apiKeys '["<key of 16+ chars>"]'.`,
    });
  // Cloud stacks already report the missing host above; locally, only a certificate needs one.
  if (!profile.cloud && ingress.tls.mode !== "none" && !ingress.host)
    out.push({
      path: ["ingress", "host"],
      value: undefined,
      message: `tls.mode ${ingress.tls.mode} needs the host name the certificate is for. Fix: set ingress.host, or use tls.mode: none in the local stack.`,
    });
  out.push(...acmeReachabilityProblems(ingress));
  if (config.models) out.push(...planRoutes(config.models, ingress).problems);
  const names = new Set((config.models ?? []).map((m) => m.name));
  for (const key of Object.keys(ingress.modelRateLimits)) {
    if (config.models && !names.has(key))
      out.push({
        path: ["ingress", "modelRateLimits", key],
        value: key,
        message: `is not the name of a model in this stack. Fix: use one of ${[...names].map((n) => `"${n}"`).join(", ")}.`,
      });
  }
  return out;
};

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
function acmeReachabilityProblems(ingress: NonNullable<Parameters<Rule>[0]["ingress"]>): RuleProblem[] {
  const tls = ingress.tls;
  if (tls.mode !== "acme" || !PUBLIC_ACME_HOSTS.includes(new URL(tls.server).hostname)) return [];
  const blocked =
    ingress.exposure === "internal"
      ? {
          path: ["ingress", "exposure"],
          value: ingress.exposure,
          why: "an internal load balancer cannot be reached from the internet",
        }
      : ingress.allowedSourceCidrs.length > 0
        ? {
            path: ["ingress", "allowedSourceCidrs"],
            value: ingress.allowedSourceCidrs,
            why: "a source allow-list blocks its validators, which connect from addresses it does not publish",
          }
        : undefined;
  if (!blocked) return [];
  return [
    {
      path: blocked.path,
      value: blocked.value,
      message: `tls.mode acme with ${new URL(tls.server).hostname} validates HTTP-01 from the internet, and ${blocked.why}: the certificate would never be issued. Fix: use tls.mode privateCa (your CA) or secret (your certificate), or an ACME server inside your network (tls.server), or exposure internet-facing with no allowedSourceCidrs.`,
    },
  ];
}
