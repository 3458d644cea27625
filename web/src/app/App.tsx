import { Route, type RoutePreloadFuncArgs, Router, type RouteSectionProps } from "@solidjs/router";
import { type Component, type JSX, lazy } from "solid-js";
import { SessionProvider } from "../auth";
import { AwaitedOutcomesProvider } from "../sessions";
import { LiveAnnouncer } from "../ui/announcer";
import { Toasts } from "../ui/toast";
import { WelcomePage } from "../welcome";

/**
 * Each page is its own chunk, loaded when it is first visited (or a link to it is hovered): a first
 * visit to the landing page loads the landing page and nothing else. A page's preload starts its
 * request as soon as the chunk is there, before the page itself renders (it waits on the same
 * load), so the page finds the request under way and shares it; once loaded, at once.
 */
function lazyFeature<M>(importer: () => Promise<M>) {
  let loaded: M | undefined;
  let loading: Promise<M> | undefined;
  const load = () => {
    loading ??= importer().then((module) => {
      loaded = module;
      return module;
    });
    return loading;
  };
  return {
    page: <K extends keyof M>(name: K): Component<RouteSectionProps> =>
      lazy(async () => ({ default: (await load())[name] as Component<RouteSectionProps> })),
    preload:
      (start: (module: M, args: RoutePreloadFuncArgs) => unknown) =>
      (args: RoutePreloadFuncArgs): void => {
        if (loaded) start(loaded, args);
        else void load().then((module) => start(module, args));
      },
  };
}
const auth = lazyFeature(() => import("../auth/pages"));
const shell = lazyFeature(() => import("./AppShell"));
const notFound = lazyFeature(() => import("./NotFoundPage"));
const studio = lazyFeature(() => import("../studio"));
const sessions = lazyFeature(() => import("../sessions/pages"));
const references = lazyFeature(() => import("../references"));
const gallery = lazyFeature(() => import("../gallery"));
const trash = lazyFeature(() => import("../trash"));
const usage = lazyFeature(() => import("../usage"));
const settings = lazyFeature(() => import("../settings"));

/**
 * Everything under the router: the signed-in state, the generations whose outcome is still to be
 * announced (handed from the Studio to the session it opens), the toasts and the one live region.
 */
function Root(props: RouteSectionProps): JSX.Element {
  return (
    <SessionProvider>
      <AwaitedOutcomesProvider>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        {props.children}
        <Toasts />
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
 *   /gallery                every image (`?q=` and filters; `?view=` the image open full size)
 *   /trash                  what was deleted, restorable
 *   /references             reference images
 *   /usage                  what was spent, by day, and today's quota (loaded when opened)
 *   /settings               account: API tokens, deleting the account
 * A page that loads data has a `preload`: its request starts with the navigation (or when a link to
 * it is hovered), not after the page has rendered.
 */
export function App(): JSX.Element {
  return (
    <Router root={Root}>
      <Route path="/welcome" component={WelcomePage} />
      <Route path="/sign-in" component={auth.page("SignInPage")} />
      <Route path="/sign-up" component={auth.page("SignUpPage")} />
      <Route path="/" component={shell.page("AppShell")}>
        <Route
          path="/"
          component={studio.page("StudioPage")}
          preload={studio.preload((module) => module.preloadRecentSessions())}
        />
        <Route
          path="/sessions"
          component={sessions.page("SessionsPage")}
          preload={sessions.preload((module, args) => module.preloadSessions(args))}
        />
        <Route
          path="/sessions/:id"
          component={sessions.page("SessionPage")}
          preload={sessions.preload((module, args) => module.preloadSession(args))}
        />
        <Route
          path="/references"
          component={references.page("ReferencesPage")}
          preload={references.preload((module) => module.preloadReferences())}
        />
        <Route
          path="/gallery"
          component={gallery.page("GalleryPage")}
          preload={gallery.preload((module, args) => module.preloadGallery(args))}
        />
        <Route
          path="/trash"
          component={trash.page("TrashPage")}
          preload={trash.preload((module) => module.preloadTrash())}
        />
        <Route path="/usage" component={usage.page("UsagePage")} />
        <Route path="/settings" component={settings.page("SettingsPage")} />
        <Route path="*404" component={notFound.page("NotFoundPage")} />
      </Route>
    </Router>
  );
}
