import { randomInt } from "node:crypto";

const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
const MIXED_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomString(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Replicate-style id: 26 lowercase alphanumerics, e.g. `gm3qorzdhgbfurvjtvhg6dckhu`. */
export function newId(): string {
  return randomString(LOWER_ALNUM, 26);
}

/** Opaque path token for delivery URLs, like replicate.delivery's mixed-case tokens. */
export function newDeliveryToken(): string {
  return randomString(MIXED_ALNUM, 40);
}

/** Standard Webhooks message id. */
export function newWebhookId(): string {
  return `msg_${randomString(MIXED_ALNUM, 27)}`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7807 problem response, as Replicate sends them (`application/problem+json`). */
export function problemResponse(
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

export function notFound(detail = "The requested resource could not be found."): Response {
  return problemResponse(404, { detail, status: 404 });
}

/** Wall-clock sleep (never emulator time). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Replicate lists: newest first, `{ next, previous, results }`, cursor = last id of the page. */
export function paginate<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  cursor: string | undefined,
  pageUrl: (cursor: string) => string,
  pageSize = 100,
): { next: string | null; previous: string | null; page: T[] } {
  let start = 0;
  if (cursor) {
    const at = items.findIndex((item) => idOf(item) === cursor);
    start = at >= 0 ? at + 1 : items.length;
  }
  const page = items.slice(start, start + pageSize);
  const last = page[page.length - 1];
  const next = start + pageSize < items.length && last ? pageUrl(idOf(last)) : null;
  return { next, previous: null, page };
}
