/**
 * The JSON answers the entry point gives instead of reaching an engine. OpenAI-style error bodies so that SDK
 * clients show the message. Shared by the controller's error pages and the nginx.conf the tests run.
 */
export interface EdgeResponse {
  /** Status codes this answer replaces (nginx error_page codes). */
  readonly codes: readonly number[];
  /** Status code sent to the client. */
  readonly status: number;
  readonly body: { readonly error: { readonly message: string; readonly type: string; readonly code: number } };
  readonly headers: readonly { readonly name: string; readonly value: string }[];
}

/**
 * Missing key and wrong key both answer 401 (NGINX Ingress Controller's API-key check itself says 401 for a
 * missing and 403 for an unknown key; we fold both into one answer so that a caller cannot probe keys).
 */
export function unauthorized(): EdgeResponse {
  return {
    codes: [401, 403],
    status: 401,
    body: {
      error: {
        message: "missing or invalid API key: send the header 'Authorization: Bearer <key>'",
        type: "authentication_error",
        code: 401,
      },
    },
    headers: [{ name: "WWW-Authenticate", value: "Bearer" }],
  };
}

export function rateLimited(model: string): EdgeResponse {
  return {
    codes: [429],
    status: 429,
    body: {
      error: {
        message: `rate limit exceeded for model ${model}: slow down and retry after the Retry-After delay`,
        type: "rate_limit_error",
        code: 429,
      },
    },
    headers: [{ name: "Retry-After", value: "1" }],
  };
}

/** @param maxBodySize the route's limit as an NGINX size ("32m", or plain bytes such as "2000000") */
export function tooLarge(maxBodySize: string): EdgeResponse {
  const limit = /^\d+$/.test(maxBodySize) ? `${maxBodySize} bytes` : maxBodySize;
  return {
    codes: [413],
    status: 413,
    body: {
      error: {
        message: `request body larger than ${limit}: send fewer or shorter documents per call`,
        type: "invalid_request_error",
        code: 413,
      },
    },
    headers: [],
  };
}

export function notFound(): EdgeResponse {
  return {
    codes: [404],
    status: 404,
    body: {
      error: {
        message: "no such endpoint: call /models/<name>/v1/embeddings or /models/<name>/v1/rerank",
        type: "not_found_error",
        code: 404,
      },
    },
    headers: [],
  };
}

/**
 * The body as an NGINX string literal's content: double quotes escaped with a backslash. NGINX Ingress Controller
 * requires exactly this form in `return.body` (its validator rejects unescaped quotes), and nginx unescapes it.
 */
export function escapedBody(r: EdgeResponse): string {
  return JSON.stringify(r.body).replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

/** An answer as the post-deploy checks compare it: status, JSON body, the header names it carries. */
export interface EdgePage {
  readonly status: number;
  readonly body: EdgeResponse["body"];
  readonly headers: readonly string[];
}

export function edgePage(r: EdgeResponse): EdgePage {
  return { status: r.status, body: r.body, headers: r.headers.map((h) => h.name) };
}
