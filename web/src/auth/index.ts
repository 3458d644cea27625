/** Signing in and out, and the signed-in person. */
export { RequireAuth } from "./RequireAuth";
export { SessionProvider, useSession } from "./session";
