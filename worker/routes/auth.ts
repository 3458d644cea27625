import {
  type ApiTokenPage,
  type CreatedApiToken,
  createTokenSchema,
  credentialsSchema,
  deleteAccountSchema,
} from "@contract/api";
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { createApiToken, createAuthSession, deleteAuthSession } from "../accounts/credentials";
import { deleteAccount } from "../accounts/deletion";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../accounts/passwords";
import { clientIp, consumeRateLimit, LIMITS } from "../accounts/rate-limit";
import { apiTokens, users } from "../db/schema";
import {
  assertSameOrigin,
  clearSessionCookie,
  forgetCachedResponses,
  readSessionToken,
  requireUser,
  setSessionCookie,
} from "../http/auth";
import type { AppEnv } from "../http/types";
import { validate } from "../http/validation";
import { newId } from "../lib/ids";
import { notFound, ProblemError } from "../lib/problem";

export const authRoutes = new Hono<AppEnv>()
  .post("/auth/signup", validate("json", credentialsSchema), async (c) => {
    assertSameOrigin(c);
    const { email, password } = c.req.valid("json");
    const db = c.get("db");
    const ip = clientIp(c.req.raw.headers);
    if (ip) await consumeRateLimit(db, LIMITS.signupPerIp, ip);
    const existing = await db.query.users.findFirst({ where: eq(users.email, email), columns: { id: true } });
    if (existing)
      throw new ProblemError(409, "An account with this email already exists.", {
        errors: [{ path: "email", message: "Already registered" }],
      });
    const user = { id: newId("usr"), email };
    const passwordHash = await hashPassword(password, c.get("config").passwordPepper);
    const inserted = await db
      .insert(users)
      .values({ ...user, passwordHash })
      .onConflictDoNothing()
      .returning({ id: users.id });
    if (inserted.length === 0)
      throw new ProblemError(409, "An account with this email already exists.", {
        errors: [{ path: "email", message: "Already registered" }],
      });
    const session = await createAuthSession(db, user.id);
    setSessionCookie(c, session.token);
    return c.json({ user }, 201);
  })
  .post("/auth/login", validate("json", credentialsSchema), async (c) => {
    assertSameOrigin(c);
    const { email, password } = c.req.valid("json");
    const db = c.get("db");
    const ip = clientIp(c.req.raw.headers);
    if (ip) await consumeRateLimit(db, LIMITS.loginPerIp, ip);
    await consumeRateLimit(db, LIMITS.loginPerAccount, email);
    const pepper = c.get("config").passwordPepper;
    const user = await db.query.users.findFirst({ where: eq(users.email, email) });
    // Verify against a dummy hash when the account is unknown, so timing does not reveal accounts.
    const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH, pepper);
    if (!user || !valid) throw new ProblemError(401, "Email or password is wrong.");
    // A fresh session id at every sign-in; any session the browser already had is ended.
    const previous = readSessionToken(c);
    if (previous) await deleteAuthSession(db, previous);
    const session = await createAuthSession(db, user.id);
    setSessionCookie(c, session.token);
    return c.json({ user: { id: user.id, email: user.email } });
  })
  .post("/auth/logout", async (c) => {
    assertSameOrigin(c);
    const token = readSessionToken(c);
    if (token) await deleteAuthSession(c.get("db"), token);
    clearSessionCookie(c);
    forgetCachedResponses(c);
    return c.body(null, 204);
  })
  .get("/me", requireUser, (c) => c.json(c.get("user")))
  .delete("/me", requireUser, validate("json", deleteAccountSchema), async (c) => {
    const user = c.get("user");
    const db = c.get("db");
    const { password } = c.req.valid("json");
    // In a browser the password is asked again: a borrowed, framed or scripted page cannot do this.
    if (c.get("authMethod") === "cookie" && !password) {
      throw new ProblemError(400, "Confirm with your password to delete the account.", {
        errors: [{ path: "password", message: "Required to delete the account" }],
      });
    }
    if (password !== undefined) {
      await consumeRateLimit(db, LIMITS.loginPerAccount, user.email);
      const stored = await db.query.users.findFirst({ where: eq(users.id, user.id), columns: { passwordHash: true } });
      const valid = await verifyPassword(
        password,
        stored?.passwordHash ?? DUMMY_PASSWORD_HASH,
        c.get("config").passwordPepper,
      );
      if (!valid) {
        throw new ProblemError(403, "The password is wrong; nothing was deleted.", {
          errors: [{ path: "password", message: "Wrong password" }],
        });
      }
    }
    await deleteAccount(c.env, db, c.get("config"), user);
    clearSessionCookie(c);
    forgetCachedResponses(c);
    return c.body(null, 204);
  })
  .post("/tokens", requireUser, validate("json", createTokenSchema), async (c) => {
    const created = await createApiToken(c.get("db"), c.get("user").id, c.req.valid("json").name);
    const body: CreatedApiToken = {
      id: created.id,
      name: created.name,
      token: created.token,
      createdAt: created.createdAt.toISOString(),
    };
    return c.json(body, 201);
  })
  .get("/tokens", requireUser, async (c) => {
    const rows = await c
      .get("db")
      .select({
        id: apiTokens.id,
        name: apiTokens.name,
        createdAt: apiTokens.createdAt,
        lastUsedAt: apiTokens.lastUsedAt,
      })
      .from(apiTokens)
      .where(eq(apiTokens.userId, c.get("user").id));
    // Few per person: one page.
    return c.json({
      items: rows.map((row) => ({
        ...row,
        createdAt: row.createdAt.toISOString(),
        lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
      })),
      nextCursor: null,
    } satisfies ApiTokenPage);
  })
  .delete("/tokens/:id", requireUser, async (c) => {
    const deleted = await c
      .get("db")
      .delete(apiTokens)
      .where(and(eq(apiTokens.id, c.req.param("id")), eq(apiTokens.userId, c.get("user").id)))
      .returning({ id: apiTokens.id });
    if (deleted.length === 0) throw notFound("token");
    return c.body(null, 204);
  });
