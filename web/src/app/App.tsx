import { Route, type RoutePreloadFuncArgs, Router, type RouteSectionProps } from "@solidjs/router";
import { type Component, type JSX, lazy } from "solid-js";
import { SessionProvider } from "../auth";
import { AwaitedOutcomesProvider } from "../sessions";
import { LiveAnnouncer } from "../ui/announcer";
import { WelcomePage } from "../welcome";

/**
 * Each page is its own chunk, loaded when it is first visited (or a link to it is hovered): a first
 * visit to the landing page loads the landing page and nothing else. A page's preload loads its
 * chunk and then starts its request, so the data does not wait for the page to render.
 */
function page<M, K extends keyof M>(load: () => Promise<M>, name: K): Component<RouteSectionProps> {
  return lazy(async () => ({ default: (await load())[name] as Component<RouteSectionProps> }));
}
function preload<M>(load: () => Promise<M>, start: (module: M, args: RoutePreloadFuncArgs) => unknown) {
  return (args: RoutePreloadFuncArgs) => {
    void load().then((module) => start(module, args));
  };
}
const auth = () => import("../auth/pages");
const shell = () => import("./AppShell");
const notFound = () => import("./NotFoundPage");
const studio = () => import("../studio");
const sessions = () => import("../sessions/pages");
const references = () => import("../references");
const settings = () => import("../settings");

/**
 * Everything under the router: the signed-in state, the generations whose outcome is still to be
 * announced (handed from the Studio to the session it opens), and the one live region.
 */
function Root(props: RouteSectionProps): JSX.Element {
  return (
    <SessionProvider>
      <AwaitedOutcomesProvider>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        {props.children}
        <LiveAnnouncer />
      </AwaitedOutcomesProvider>
    </SessionProvider>
  );
}

/**
 * Routes:
 *   /welcome                public: what the app is (where a signed-out visit to / goes)
 *   /sign-in, /sign-up      public
 *   /                       Studio (new session from a prompt)
 *   /sessions               sessions list
 *   /sessions/:id           one session, live (`?g=&o=` the selected image)
 *   /references             reference images
 *   /settings               account: API tokens, deleting the account
 * A page that loads data has a `preload`: its request starts with the navigation (or when a link to
 * it is hovered), not after the page has rendered.
 */
export function App(): JSX.Element {
  return (
    <Router root={Root}>
      <Route path="/welcome" component={WelcomePage} />
      <Route path="/sign-in" component={page(auth, "SignInPage")} />
      <Route path="/sign-up" component={page(auth, "SignUpPage")} />
      <Route path="/" component={page(shell, "AppShell")}>
        <Route
          path="/"
          component={page(studio, "StudioPage")}
          preload={preload(studio, (module) => module.preloadRecentSessions())}
        />
        <Route
          path="/sessions"
          component={page(sessions, "SessionsPage")}
          preload={preload(sessions, (module, args) => module.preloadSessions(args))}
        />
        <Route
          path="/sessions/:id"
          component={page(sessions, "SessionPage")}
          preload={preload(sessions, (module, args) => module.preloadSession(args))}
        />
        <Route
          path="/references"
          component={page(references, "ReferencesPage")}
          preload={preload(references, (module) => module.preloadReferences())}
        />
        <Route path="/settings" component={page(settings, "SettingsPage")} />
        <Route path="*404" component={page(notFound, "NotFoundPage")} />
      </Route>
    </Router>
  );
}
