import { Route, Router, type RouteSectionProps } from "@solidjs/router";
import type { JSX } from "solid-js";
import { SignInPage, SignUpPage } from "../auth/AuthPage";
import { SessionProvider } from "../auth/session";
import { ReferencesPage } from "../references/ReferencesPage";
import { SessionPage } from "../sessions/SessionPage";
import { SessionsPage } from "../sessions/SessionsPage";
import { StudioPage } from "../studio/StudioPage";
import { AppShell } from "./AppShell";
import { LiveAnnouncer } from "./announcer";
import { NotFoundPage } from "./NotFoundPage";

/** Everything under the router: the signed-in state and the one live region. */
function Root(props: RouteSectionProps): JSX.Element {
  return (
    <SessionProvider>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      {props.children}
      <LiveAnnouncer />
    </SessionProvider>
  );
}

/**
 * Routes:
 *   /sign-in, /sign-up      public
 *   /                       Studio (new session from a prompt)
 *   /sessions               sessions list
 *   /sessions/:id           one session, live (`?g=&o=` the selected image)
 *   /references             reference images
 */
export function App(): JSX.Element {
  return (
    <Router root={Root}>
      <Route path="/sign-in" component={SignInPage} />
      <Route path="/sign-up" component={SignUpPage} />
      <Route path="/" component={AppShell}>
        <Route path="/" component={StudioPage} />
        <Route path="/sessions" component={SessionsPage} />
        <Route path="/sessions/:id" component={SessionPage} />
        <Route path="/references" component={ReferencesPage} />
        <Route path="*404" component={NotFoundPage} />
      </Route>
    </Router>
  );
}
