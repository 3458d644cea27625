/**
 * Headless Chromium for the browser tests, and what its console says: every Content-Security-Policy
 * violation is reported there, so a test can require none.
 */
import { type APIRequestContext, type APIResponse, type Browser, type BrowserContext, chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * A read through a page's or a context's request API. wrangler's local server now and then resets a
 * kept-alive connection as a request goes out on it (ECONNRESET, seen in loaded clean-clone runs);
 * a browser sends an idempotent request again then, and so does this. Writes are never resent.
 */
export const readApi = (request: APIRequestContext, url: string): Promise<APIResponse> =>
  request.get(url, { maxRetries: 2 });

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export type ConsoleWatch = {
  /** Console lines reporting a Content-Security-Policy violation, from every page of the context. */
  cspViolations: () => string[];
  /** Uncaught exceptions thrown in any page of the context. */
  pageErrors: () => string[];
};

const CSP_REPORT = /Content Security Policy|Content-Security-Policy/i;

export function watchConsole(context: BrowserContext): ConsoleWatch {
  const violations: string[] = [];
  const errors: string[] = [];
  context.on("console", (message) => {
    if (CSP_REPORT.test(message.text())) violations.push(message.text());
  });
  context.on("weberror", (error) => errors.push(error.error().message));
  return { cspViolations: () => [...violations], pageErrors: () => [...errors] };
}

/** The security headers every page and file of the web app carries, however it is served. */
export const APP_SHELL_HEADERS: Record<string, RegExp> = {
  "content-security-policy":
    /^default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:;.*connect-src 'self';.*frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'$/,
  "x-content-type-options": /^nosniff$/,
  "x-frame-options": /^DENY$/,
  "referrer-policy": /^strict-origin-when-cross-origin$/,
  "permissions-policy": /(^|, )camera=\(self\)/,
  "cross-origin-opener-policy": /^same-origin$/,
  "strict-transport-security": /^max-age=\d{7,}/,
};

/** The app shell headers of one response that are missing or wrong, by name. */
export function missingShellHeaders(headers: Headers): string[] {
  return Object.entries(APP_SHELL_HEADERS)
    .filter(([name, pattern]) => !pattern.test(headers.get(name) ?? ""))
    .map(([name]) => `${name}: ${headers.get(name)}`);
}
