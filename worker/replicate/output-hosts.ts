/**
 * Outputs are only ever fetched from hosts on REPLICATE_OUTPUT_HOSTS (`host`, `*.host`, or
 * `host:port`), never through a redirect, so a forged or compromised prediction cannot make the
 * Worker fetch anything else.
 */
export function isAllowedOutputUrl(rawUrl: string, allowedHosts: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return false;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return false;
  if (url.username || url.password) return false;
  const hostname = url.hostname.toLowerCase();
  const hostWithPort = url.port ? `${hostname}:${url.port}` : hostname;
  return allowedHosts.some((pattern) => {
    const allowsPlainHttp = isLoopbackPattern(pattern);
    if (url.protocol === "http:" && !allowsPlainHttp) return false;
    if (pattern.startsWith("*.")) {
      const suffix = pattern.slice(1);
      return hostname.endsWith(suffix) && hostname.length > suffix.length && !url.port;
    }
    return pattern.includes(":") ? hostWithPort === pattern : hostname === pattern && !url.port;
  });
}

/** Plain http is allowed only for an explicitly configured loopback emulator. */
function isLoopbackPattern(pattern: string): boolean {
  const host = pattern.split(":")[0];
  return host === "127.0.0.1" || host === "localhost";
}
