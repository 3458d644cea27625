import { Route, Router, type RouteSectionProps } from "@solidjs/router";
import type { JSX } from "solid-js";
import { SessionProvider, SignInPage, SignUpPage } from "../auth";
import { GalleryPage, preloadGallery } from "../gallery";
import { preloadReferences, ReferencesPage } from "../references";
import { AwaitedOutcomesProvider, preloadSession, preloadSessions, SessionPage, SessionsPage } from "../sessions";
import { SettingsPage } from "../settings";
import { preloadRecentSessions, StudioPage } from "../studio";
import { preloadTrash, TrashPage } from "../trash";
import { LiveAnnouncer } from "../ui/announcer";
import { Toasts } from "../ui/toast";
import { UsagePage } from "../usage";
import { WelcomePage } from "../welcome";
import { AppShell } from "./AppShell";
import { NotFoundPage } from "./NotFoundPage";

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
      <Route path="/sign-in" component={SignInPage} />
      <Route path="/sign-up" component={SignUpPage} />
      <Route path="/" component={AppShell}>
        <Route path="/" component={StudioPage} preload={preloadRecentSessions} />
        <Route path="/sessions" component={SessionsPage} preload={preloadSessions} />
        <Route path="/sessions/:id" component={SessionPage} preload={preloadSession} />
        <Route path="/gallery" component={GalleryPage} preload={preloadGallery} />
        <Route path="/trash" component={TrashPage} preload={preloadTrash} />
        <Route path="/references" component={ReferencesPage} preload={preloadReferences} />
        <Route path="/usage" component={UsagePage} />
        <Route path="/settings" component={SettingsPage} />
        <Route path="*404" component={NotFoundPage} />
      </Route>
    </Router>
  );
}
