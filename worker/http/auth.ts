/**
 * Authentication (session cookie or bearer token) and cross-site request checks.
 */
import type { User } from "@contract/api";
import type { Context, MiddlewareHandler, ValidationTargets } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { z } from "zod";
import {
  apiTokenSignIn,
  apiTokenUserId,
  SESSION_TTL_MS,
  sessionTokenSignIn,
  sessionTokenUserId,
  signedInUser,
  userForApiToken,
  userForSessionToken,
} from "../accounts/credentials";
import { sha256Hex } from "../lib/ids";
import { ProblemError } from "../lib/problem";
import type { AppEnv } from "./types";
import { validate } from "./validation";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** `__Host-` binds the cookie to this exact origin over https; plain http (local dev) cannot use it. */
export const sessionCookieName = (url: string): string =>
  new URL(url).protocol === "https:" ? "__Host-studio_session" : "studio_session";

export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  const secure = new URL(c.req.url).protocol === "https:";
  setCookie(c, sessionCookieName(c.req.url), token, {
    httpOnly: true,
    secure,
    sameSite: "Lax",
    path: "/",
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  const secure = new URL(c.req.url).protocol === "https:";
  deleteCookie(c, sessionCookieName(c.req.url), { path: "/", secure, httpOnly: true, sameSite: "Lax" });
}

/**
 * When a person signs out or deletes the account: the browser's HTTP cache still holds their images
 * (cached privately for a year), and the next person on this device must not be served them.
 */
export function forgetCachedResponses(c: Context<AppEnv>): void {
  c.header("Clear-Site-Data", '"cache"');
}

export const readSessionToken = (c: Context<AppEnv>): string | undefined => getCookie(c, sessionCookieName(c.req.url));

function bearerToken(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("Authorization");
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

/**
 * A cookie-authenticated request that changes state must come from our own origin. Browsers send
 * `Sec-Fetch-Site` and `Origin`; requests with neither (curl, scripts) carry no ambient cookie risk.
 */
export function assertSameOrigin(c: Context<AppEnv>): void {
  const refusal = crossSiteRefusal(c);
  if (refusal) throw refusal;
}

/** The refusal `assertSameOrigin` throws for this request, if any. */
function crossSiteRefusal(c: Context<AppEnv>): ProblemError | undefined {
  const fetchSite = c.req.header("Sec-Fetch-Site");
  if (fetchSite && fetchSite !== "same-origin" && fetchSite !== "none") {
    return new ProblemError(403, "Cross-site requests are not allowed.");
  }
  const origin = c.req.header("Origin");
  if (origin && origin !== new URL(c.req.url).origin) {
    return new ProblemError(403, "Cross-origin requests are not allowed.");
  }
  return undefined;
}

export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const db = c.get("db");
  const bearer = bearerToken(c);
  if (bearer) {
    const user = await userForApiToken(db, bearer);
    if (!user) throw new ProblemError(401, "The bearer token is not valid.");
    c.set("user", user);
    c.set("authMethod", "bearer");
    return next();
  }
  const token = readSessionToken(c);
  const user = token ? await userForSessionToken(db, token) : null;
  if (!user) throw new ProblemError(401, "Sign in to continue.");
  if (!SAFE_METHODS.has(c.req.method)) assertSameOrigin(c);
  c.set("user", user);
  c.set("authMethod", "cookie");
  return next();
};

/**
 * Signing in within the route's own first call to D1, for the requests people make most: the
 * credential's statement goes first in the route's batch, and the route's reads name the user by
 * `userId`, a subquery on the same credential, before it is known. `signedIn` then answers 401 as
 * `requireUser` does (what was read is dropped with it). A request with no credential at all is
 * refused at once.
 */
export async function signInWithin(c: Context<AppEnv>) {
  const db = c.get("db");
  const bearer = bearerToken(c);
  const cookie = bearer ? undefined : readSessionToken(c);
  if (!bearer && !cookie) throw new ProblemError(401, "Sign in to continue.");
  const hash = await sha256Hex(bearer ?? cookie ?? "");
  const now = new Date();
  const checksOrigin = !bearer && !SAFE_METHODS.has(c.req.method);
  return {
    statement: bearer ? apiTokenSignIn(db, hash) : sessionTokenSignIn(db, hash, now),
    userId: bearer ? apiTokenUserId(db, hash) : sessionTokenUserId(db, hash, now),
    /**
     * Whether `signedIn` would refuse the request whoever signs in (a cookie's change sent from
     * another site), so that a route writing in the same batch as signing in knows before it writes.
     */
    crossSite: checksOrigin && crossSiteRefusal(c) !== undefined,
    /** Who signed in, from the statement's rows; 401 problem+json when nobody did. */
    signedIn(rows: readonly { id: string; email: string | null }[]): User {
      const user = signedInUser(rows);
      if (!user) throw new ProblemError(401, bearer ? "The bearer token is not valid." : "Sign in to continue.");
      if (checksOrigin) assertSameOrigin(c);
      c.set("user", user);
      c.set("authMethod", bearer ? "bearer" : "cookie");
      return user;
    },
  };
}

export type SignInWithin = Awaited<ReturnType<typeof signInWithin>>;

/**
 * `validate(target, schema)` for a route that signs in with `signInWithin`: a part it would refuse
 * (or a body that is not JSON at all) is answered after signing in on its own, so that 401 still
 * comes before 400. What it accepts is validated once, and read with `c.req.valid(target)`.
 */
export const validateSigningInFirst = <Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) => {
  const validator = validate(target, schema);
  const signingInFirst: typeof validator = async (c, next) => {
    let accepted = false;
    try {
      await validator(c, async () => {
        accepted = true;
      });
    } catch (refusal) {
      // The validator's context is typed for any app; this one is ours.
      await requireUser(c as unknown as Context<AppEnv>, async () => {});
      throw refusal;
    }
    if (accepted) await next();
  };
  return signingInFirst;
};
