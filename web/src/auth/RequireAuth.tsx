import { Navigate, useLocation } from "@solidjs/router";
import { type JSX, Match, Switch } from "solid-js";
import { errorMessage } from "../api/errors";
import { useSession } from "./session";

/**
 * Renders its children for a signed-in person. Signed out (or the session expired: any 401), it
 * goes to the sign-in page with `?next=` set to where the person was, so they come back after. A
 * first visit to the home page goes to the landing page instead, which says what the app is.
 */
export function RequireAuth(props: { children: JSX.Element; fallback: JSX.Element }): JSX.Element {
  const session = useSession();
  const location = useLocation();

  const signInHref = () => {
    if (session.accountDeleted()) return "/welcome?deleted=1";
    if (session.signedOutOnPurpose()) return "/sign-in";
    const here = `${location.pathname}${location.search}`;
    return here === "/" ? "/welcome" : `/sign-in?next=${encodeURIComponent(here)}`;
  };

  return (
    <Switch>
      <Match when={session.user.state === "errored"}>
        <div class="page page--narrow">
          <div class="notice notice--error" role="alert">
            <p>{errorMessage(session.user.error)}</p>
            <button type="button" class="button" onClick={() => session.retry()}>
              Try again
            </button>
          </div>
        </div>
      </Match>
      <Match when={session.user.latest}>{props.children}</Match>
      <Match when={session.user.state === "ready" && session.user() === null}>
        <Navigate href={signInHref()} />
      </Match>
      <Match when={true}>{props.fallback}</Match>
    </Switch>
  );
}
