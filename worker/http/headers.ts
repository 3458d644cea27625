/**
 * Headers on every API response. The answers hold a user's data: never cached by a shared cache or
 * kept by the browser (a route that sets its own Cache-Control, such as the owner-only, immutable
 * image bytes, keeps it), never sniffed into another type, never rendered as a page that runs or
 * frames anything. The web app's own files get theirs from `web/public/_headers`.
 */
import type { MiddlewareHandler } from "hono";

export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

export const apiHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  // A WebSocket handshake's answer belongs to the runtime.
  if (c.res.status === 101) return;
  const headers = new Headers(c.res.headers);
  headers.set("X-Content-Type-Options", "nosniff");
  if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
  if (!headers.has("Content-Security-Policy")) headers.set("Content-Security-Policy", API_CONTENT_SECURITY_POLICY);
  headers.set("Referrer-Policy", "no-referrer");
  // Responses passed through from a binding can have immutable headers: answer with a copy.
  c.res = new Response(c.res.body, { status: c.res.status, statusText: c.res.statusText, headers });
};
