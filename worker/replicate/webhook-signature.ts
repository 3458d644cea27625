/**
 * Verification of Replicate's signed webhooks (the Standard Webhooks scheme): HMAC-SHA256 over
 * `${id}.${timestamp}.${rawBody}` keyed with the base64-decoded part of the `whsec_` secret.
 * Unlike the client's `validateWebhook`, this checks the timestamp window, accepts only `v1`
 * signatures and compares in constant time.
 */
import { timingSafeEqual } from "../accounts/passwords";

export const WEBHOOK_TOLERANCE_SECONDS = 300;

export type WebhookHeaders = {
  id: string | null | undefined;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
};

export type WebhookVerdict =
  /** `sentAt`: the signed `webhook-timestamp`, in milliseconds. */
  | { ok: true; webhookId: string; sentAt: number }
  | { ok: false; reason: "missing_headers" | "bad_secret" | "bad_timestamp" | "stale" | "bad_signature" };

const encoder = new TextEncoder();

function decodeBase64(value: string): Uint8Array | null {
  try {
    const binary = atob(value);
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

function secretKeyBytes(secret: string): Uint8Array | null {
  const encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  const bytes = decodeBase64(encoded);
  return bytes && bytes.length > 0 ? bytes : null;
}

/**
 * Each secret's HMAC key, decoded and imported once (null: not a usable secret): every webhook is
 * signed with the same one or two, and a burst brings hundreds a second. The key itself is kept, not
 * the promise of it, which belongs to the request that made it.
 */
const keys = new Map<string, CryptoKey | null>();
/** Secrets seen are few (the current one and the one being rotated out); this only bounds the odd caller. */
const MAX_KEYS = 16;

async function hmacKey(secret: string): Promise<CryptoKey | null> {
  const known = keys.get(secret);
  if (known !== undefined) return known;
  const keyBytes = secretKeyBytes(secret);
  const key = keyBytes
    ? await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
    : null;
  if (keys.size >= MAX_KEYS) keys.clear();
  keys.set(secret, key);
  return key;
}

export async function signWebhook(secret: string, id: string, timestamp: string, body: string): Promise<string> {
  const key = await hmacKey(secret);
  if (!key) throw new Error("Webhook secret is not valid base64");
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`)));
  let binary = "";
  for (const byte of mac) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Verifies a delivery against one secret, or several while a secret is being rotated (the new one
 * and the one on its way out): a valid `v1` signature made with any of them passes.
 */
export async function verifyWebhook(
  secrets: string | readonly string[],
  headers: WebhookHeaders,
  rawBody: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<WebhookVerdict> {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return { ok: false, reason: "missing_headers" };
  const usable = (typeof secrets === "string" ? [secrets] : secrets).filter(
    (secret) => keys.get(secret) || secretKeyBytes(secret),
  );
  if (usable.length === 0) return { ok: false, reason: "bad_secret" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "bad_timestamp" };
  if (Math.abs(nowSeconds - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) return { ok: false, reason: "stale" };

  const expected = await Promise.all(
    usable.map(async (secret) => encoder.encode(await signWebhook(secret, id, timestamp, rawBody))),
  );
  // The header may carry several space-separated signatures (the sender's own key rotation).
  for (const entry of signature.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const given = encoder.encode(entry.slice(comma + 1));
    if (expected.some((mac) => timingSafeEqual(given, mac)))
      return { ok: true, webhookId: id, sentAt: Number(timestamp) * 1000 };
  }
  return { ok: false, reason: "bad_signature" };
}
