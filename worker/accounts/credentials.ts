/**
 * Sign-in sessions (cookies) and API tokens. Only SHA-256 digests of the secrets are stored, so a
 * database leak yields nothing usable.
 */

import type { User } from "@contract/api";
import { and, eq, gt, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { apiTokens, authSessions, users } from "../db/schema";
import { newId, randomToken, sha256Hex } from "../lib/ids";

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const API_TOKEN_PREFIX = "isk_";

export async function createAuthSession(db: Database, userId: string): Promise<{ token: string; expiresAt: Date }> {
  const token = randomToken(32);
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await db.insert(authSessions).values({ id: await sha256Hex(token), userId, expiresAt });
  return { token, expiresAt };
}

export async function deleteAuthSession(db: Database, token: string): Promise<void> {
  await db.delete(authSessions).where(eq(authSessions.id, await sha256Hex(token)));
}

/** The cookie's user while it has not expired (the statement, for a batch: see `userForSessionToken`). */
export const sessionTokenSignIn = (db: Database, tokenHash: string, now = new Date()) =>
  db
    .select({ id: users.id, email: users.email })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(and(eq(authSessions.id, tokenHash), gt(authSessions.expiresAt, now)))
    .limit(1);

/** The id of the cookie's user, as a subquery other statements of the same batch can use. */
export const sessionTokenUserId = (db: Database, tokenHash: string, now = new Date()) =>
  db
    .select({ id: authSessions.userId })
    .from(authSessions)
    .where(and(eq(authSessions.id, tokenHash), gt(authSessions.expiresAt, now)));

export async function userForSessionToken(db: Database, token: string): Promise<User | null> {
  const [row] = await sessionTokenSignIn(db, await sha256Hex(token));
  return row ?? null;
}

export async function createApiToken(
  db: Database,
  userId: string,
  name: string,
): Promise<{ id: string; name: string; token: string; createdAt: Date }> {
  const token = API_TOKEN_PREFIX + randomToken(32);
  const id = newId("tok");
  const createdAt = new Date();
  await db.insert(apiTokens).values({ id, userId, name, tokenHash: await sha256Hex(token), createdAt });
  return { id, name, token, createdAt };
}

/** A token's use is stamped at most this often (per isolate): its last use is shown to the minute. */
export const TOKEN_STAMP_INTERVAL_MS = 60_000;
/** How many tokens an isolate remembers stamping before it starts afresh (memory stays bounded). */
const MAX_REMEMBERED_STAMPS = 10_000;
/** When this isolate last stamped each token's use, by the token's hash. */
const stampedAt = new Map<string, number>();

/**
 * The token's user in one statement: signing a request in costs one round trip to D1 (a deleted
 * user's tokens are deleted with it). The statement stamps the token's use as it reads it, unless
 * this isolate stamped it less than a minute ago: then it only reads, so a client making many
 * requests writes once a minute, not on every request. The statement, for a batch; see
 * `userForApiToken`.
 */
export const apiTokenSignIn = (db: Database, tokenHash: string, now = Date.now()) => {
  const user = {
    id: apiTokens.userId,
    email: sql<string | null>`(SELECT ${users.email} FROM ${users} WHERE ${users.id} = ${apiTokens.userId})`,
  };
  const last = stampedAt.get(tokenHash);
  if (last !== undefined && now - last >= 0 && now - last < TOKEN_STAMP_INTERVAL_MS) {
    return db.select(user).from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
  }
  if (stampedAt.size >= MAX_REMEMBERED_STAMPS) stampedAt.clear();
  stampedAt.set(tokenHash, now);
  return db
    .update(apiTokens)
    .set({ lastUsedAt: new Date(now) })
    .where(eq(apiTokens.tokenHash, tokenHash))
    .returning(user);
};

/** The id of the token's user, as a subquery other statements of the same batch can use. */
export const apiTokenUserId = (db: Database, tokenHash: string) =>
  db.select({ id: apiTokens.userId }).from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));

/** A signed-in user from the rows of `apiTokenSignIn` or `sessionTokenSignIn`. */
export const signedInUser = (rows: readonly { id: string; email: string | null }[]): User | null => {
  const [row] = rows;
  return row?.email ? { id: row.id, email: row.email } : null;
};

export async function userForApiToken(db: Database, token: string): Promise<User | null> {
  return signedInUser(await apiTokenSignIn(db, await sha256Hex(token)));
}
