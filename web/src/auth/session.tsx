/**
 * The signed-in person, app-wide: `useSession()` gives the current user resource (who the server
 * says is signed in; `null` when signed out), and sign in / sign up / sign out actions that keep it in
 * step. A 401 from any authenticated call marks the session as gone, which sends the person to the
 * sign-in page (see `RequireAuth`) and back afterwards.
 */

import type { Credentials, User } from "@contract/api";
import {
  type Accessor,
  createContext,
  createResource,
  createSignal,
  type JSX,
  onCleanup,
  type Resource,
  useContext,
} from "solid-js";
import { deleteAccount, fetchMe, signIn, signOut, signUp } from "../api/auth";
import { onUnauthorized } from "../api/client";
import { forgetOfflineData } from "../lib/offline";

type SessionContextValue = {
  /** `undefined` while loading, `null` when signed out. */
  user: Resource<User | null>;
  /** True after an explicit sign out (no "return to" page on the sign-in screen then). */
  signedOutOnPurpose: Accessor<boolean>;
  /** True once the account was deleted: the person is taken to the landing page, told so. */
  accountDeleted: Accessor<boolean>;
  signIn: (credentials: Credentials) => Promise<User>;
  signUp: (credentials: Credentials) => Promise<User>;
  signOut: () => Promise<void>;
  /** Deletes the account (confirmed with the password); the session ends with it. */
  deleteAccount: (password: string) => Promise<void>;
  retry: () => void;
};

const SessionContext = createContext<SessionContextValue>();

export function SessionProvider(props: { children: JSX.Element }): JSX.Element {
  const [user, { mutate, refetch }] = createResource(fetchMe);
  const [signedOutOnPurpose, setSignedOutOnPurpose] = createSignal(false);
  const [accountDeleted, setAccountDeleted] = createSignal(false);

  onCleanup(
    onUnauthorized(() => {
      void forgetOfflineData();
      setSignedOutOnPurpose(false);
      mutate(null);
    }),
  );

  const accept = (next: User): User => {
    setSignedOutOnPurpose(false);
    setAccountDeleted(false);
    mutate(next);
    return next;
  };

  const value: SessionContextValue = {
    user,
    signedOutOnPurpose,
    accountDeleted,
    signIn: async (credentials) => accept(await signIn(credentials)),
    signUp: async (credentials) => accept(await signUp(credentials)),
    async signOut() {
      await signOut();
      await forgetOfflineData().catch(() => undefined);
      setSignedOutOnPurpose(true);
      mutate(null);
    },
    async deleteAccount(password) {
      await deleteAccount(password);
      await forgetOfflineData().catch(() => undefined);
      setSignedOutOnPurpose(true);
      setAccountDeleted(true);
      mutate(null);
    },
    retry: () => void refetch(),
  };

  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const context = useContext(SessionContext);
  if (!context) throw new Error("useSession() must be used inside <SessionProvider>");
  return context;
}

/** Only same-origin paths are followed after sign in (no `//evil.example`). */
export function safeNext(value: string | string[] | undefined): string {
  const next = Array.isArray(value) ? value[0] : value;
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (next.startsWith("/sign-in") || next.startsWith("/sign-up")) return "/";
  return next;
}
