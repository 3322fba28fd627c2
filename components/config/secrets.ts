import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { fixMessage } from "./errors";
import { safeUrl } from "./formats";

/**
 * Secret stack config. Each key must be set with `pulumi config set --secret`; a plain-text value is refused.
 * Components receive them as secret Outputs only (see load.ts), so they never reach state or logs in clear.
 */
/**
 * Alertmanager and the chat bridge may reach only TCP 443 on the internet (their NetworkPolicies,
 * components/k8s/network-policies.ts HTTPS_EGRESS): a receiver URL over http or on another port would be sent nowhere
 * (the connection is dropped), silently. Undefined when the URL is https on port 443.
 */
export function receiverUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (parsed.protocol !== "https:")
    return `uses ${parsed.protocol}, but Alertmanager's and the chat bridge's egress allow only https on port 443`;
  if (parsed.port !== "" && parsed.port !== "443")
    return `uses port ${parsed.port}, but Alertmanager's and the chat bridge's egress allow only https on port 443`;
  return undefined;
}
export const RECEIVER_URL_FIX = "give the receiver's https URL on port 443 (a relay inside the cluster for any other)";

export const SecretsSchema = z.strictObject({
  hfToken: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "Hugging Face token for gated models and higher download limits." }),
  apiKeys: z
    .array(
      z
        .string()
        .min(16, { message: fixMessage("must be at least 16 characters", "make keys with `openssl rand -hex 24`") }),
    )
    .min(1, {
      message: fixMessage("is an empty list, which no caller could use", "give at least one key, or unset apiKeys"),
    })
    .optional()
    .meta({ description: "API keys clients send as `Authorization: Bearer <key>` (a JSON list)." }),
  canaryApiKey: z
    .string()
    .min(16, { message: fixMessage("must be at least 16 characters", "make keys with `openssl rand -hex 24`") })
    .optional()
    .meta({
      description:
        "The quality canary's key at the gateway (named observability.canary.keyName). Default: derived from the first apiKeys entry; needed when the gateway has only gateway.keys or JWT.",
    }),
  grafanaAdminPassword: z
    .string()
    .min(12, { message: fixMessage("must be at least 12 characters", "use a longer password") })
    .optional(),
  alertReceiverUrls: z
    .record(
      z.string(),
      safeUrl({ schemes: ["https", "http"], example: "the webhook's full URL, https://..." }).superRefine(
        (url, ctx) => {
          // safeUrl reports a URL that does not parse; this adds what the receivers' egress allows.
          const what = URL.canParse(url) ? receiverUrlProblem(url) : undefined;
          if (what) ctx.addIssue({ code: "custom", message: fixMessage(what, RECEIVER_URL_FIX) });
        },
      ),
    )
    .optional()
    .meta({
      description: "Alertmanager receiver URLs by key (a JSON object): chat webhooks carry their token in the URL.",
    }),
});
export type SecretsConfig = z.infer<typeof SecretsSchema>;
export const SECRET_KEYS = Object.keys(SecretsSchema.shape) as (keyof SecretsConfig)[];

/** Secret config as secret Outputs: what components receive, so a secret never lands in state in clear. */
export type SecretInputs = {
  readonly [K in keyof SecretsConfig]-?: pulumi.Output<NonNullable<SecretsConfig[K]>> | undefined;
};
