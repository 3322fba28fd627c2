import type { SecretsConfig } from "../config/secrets";

/** How to store each secret key, in the form its schema reads (a JSON list, a JSON object, a string). */
const SECRET_FORMS: Record<keyof SecretsConfig, string> = {
  hfToken: "hf_...",
  apiKeys: '\'["<key of 16+ chars>", "<another key>"]\'',
  canaryApiKey: '"$(openssl rand -hex 24)"',
  grafanaAdminPassword: "'<12+ characters>'",
  alertReceiverUrls: '\'{"<urlSecretKey>": "https://..."}\'',
};

/** The command that stores a secret key, with its value in the right form. */
export function secretSetCommand(key: keyof SecretsConfig): string {
  return `pulumi config set --secret ${key} ${SECRET_FORMS[key]}`;
}
