/**
 * Response headers of every answer (the OWASP secure-headers set): no MIME sniffing, no framing, no referrer, and
 * a Content-Security-Policy. The API answers JSON only, so its policy allows nothing; the playground loads its own
 * script and stylesheet files (no inline script, no inline style, no third-party origin) and calls the API on the
 * same origin.
 */
export const API_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
};

export const PLAYGROUND_HEADERS: Readonly<Record<string, string>> = {
  ...API_HEADERS,
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};
