/**
 * Password hashing with PBKDF2-SHA-256 through WebCrypto. 100,000 iterations is the most the
 * Workers runtime allows; an optional server-side pepper (PASSWORD_PEPPER) is mixed in with HMAC so
 * a stolen database alone is not enough to start guessing.
 */
import { toBase64Url } from "../lib/ids";

const ALGORITHM = "pbkdf2-sha256";
export const PBKDF2_ITERATIONS = 100_000;
const encoder = new TextEncoder();

async function pepper(password: string, pepperSecret: string): Promise<Uint8Array> {
  if (!pepperSecret) return encoder.encode(password);
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(pepperSecret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(password)));
}

async function derive(
  password: string,
  salt: Uint8Array,
  iterations: number,
  pepperSecret: string,
): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey("raw", await pepper(password, pepperSecret), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, 256);
  return new Uint8Array(bits);
}

function fromBase64Url(value: string): Uint8Array {
  const binary = atob(value.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

export async function hashPassword(password: string, pepperSecret: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS, pepperSecret);
  return [ALGORITHM, PBKDF2_ITERATIONS, toBase64Url(salt), toBase64Url(hash)].join("$");
}

export async function verifyPassword(password: string, stored: string, pepperSecret: string): Promise<boolean> {
  const [algorithm, iterations, salt, hash] = stored.split("$");
  if (algorithm !== ALGORITHM || !iterations || !salt || !hash) return false;
  const expected = fromBase64Url(hash);
  const actual = await derive(password, fromBase64Url(salt), Number(iterations), pepperSecret);
  return timingSafeEqual(actual, expected);
}

/** Constant-time comparison of two byte strings. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

/** A hash to verify against when the account does not exist, so both paths cost the same. */
export const DUMMY_PASSWORD_HASH = `${ALGORITHM}$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
