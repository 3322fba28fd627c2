/**
 * The error code deep in a failure's cause chain: undici's fetch wraps the socket error ("fetch failed" ->
 * UND_ERR_SOCKET / ECONNREFUSED ...) one or two levels down. Shared by the verifier's and the gateway's HTTP clients.
 */
export function errorCode(error: unknown, ignore: readonly string[] = []): string | undefined {
  for (
    let e = error, depth = 0;
    e && typeof e === "object" && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && !ignore.includes(code)) return code;
  }
  return undefined;
}
