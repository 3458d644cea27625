/** Signing in and out, and the signed-in person. */
export { SignInPage, SignUpPage } from "./AuthPage";
export { RequireAuth } from "./RequireAuth";
export { SessionProvider, useSession } from "./session";
