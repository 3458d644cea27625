/** Signing in and out, and who is signed in. These calls answer 401 as a result, not as an expiry. */
import type { Credentials, User } from "@contract/api";
import { authApi, done, readJson } from "./client";
import { ApiError } from "./errors";

/** The signed-in person, or `null` when signed out. */
export async function fetchMe(): Promise<User | null> {
  try {
    return await readJson(await authApi.me.$get());
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function signIn(credentials: Credentials): Promise<User> {
  return (await readJson(await authApi.auth.login.$post({ json: credentials }))).user;
}

export async function signUp(credentials: Credentials): Promise<User> {
  return (await readJson(await authApi.auth.signup.$post({ json: credentials }))).user;
}

/** Ends the session on the server; already ended (401) is fine too. */
export async function signOut(): Promise<void> {
  try {
    await done(await authApi.auth.logout.$post());
  } catch (error) {
    // Already signed out on the server: fine. Anything else: the cookie may still be valid.
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
}

/**
 * Deletes the account and everything in it, confirmed with the password. Called with `authApi`: a
 * wrong password answers 403 and a signed-out session 401, both shown in the form, not as an expiry.
 */
export async function deleteAccount(password: string): Promise<void> {
  await done(await authApi.me.$delete({ json: { password } }));
}
