import { A, type RouteSectionProps } from "@solidjs/router";
import { createSignal, type JSX, Show } from "solid-js";
import { errorMessage } from "../api/errors";
import { RequireAuth, useSession } from "../auth";
import { ChartIcon, GearIcon, GridIcon, Logo, PaperclipIcon, SignOutIcon, SparkleIcon, StackIcon } from "../ui/icons";

/**
 * The signed-in frame: a top bar (brand, navigation on wide screens, account) and, on narrow
 * screens, a bottom navigation bar within thumb reach.
 */
export function AppShell(props: RouteSectionProps): JSX.Element {
  return (
    <RequireAuth fallback={<ShellSkeleton />}>
      <div class="shell">
        <TopBar />
        <div class="shell__content">{props.children}</div>
        <BottomNav />
      </div>
    </RequireAuth>
  );
}

/** The app's destinations; Usage and Settings are left out of the phone's bottom bar (they sit in the top bar there). */
function NavLinks(props: { class: string; secondary: boolean }): JSX.Element {
  return (
    <>
      <A href="/" end class={props.class} activeClass="is-active">
        <SparkleIcon />
        <span>Studio</span>
      </A>
      <A href="/sessions" class={props.class} activeClass="is-active">
        <StackIcon />
        <span>Sessions</span>
      </A>
      <A href="/gallery" class={props.class} activeClass="is-active">
        <GridIcon />
        <span>Gallery</span>
      </A>
      <A href="/references" class={props.class} activeClass="is-active">
        <PaperclipIcon />
        <span>References</span>
      </A>
      <Show when={props.secondary}>
        <A href="/usage" class={props.class} activeClass="is-active">
          <ChartIcon />
          <span>Usage</span>
        </A>
        <A href="/settings" class={props.class} activeClass="is-active">
          <GearIcon />
          <span>Settings</span>
        </A>
      </Show>
    </>
  );
}

function TopBar(): JSX.Element {
  const session = useSession();
  const [pending, setPending] = createSignal(false);
  const [error, setError] = createSignal<string>();

  const signOut = async () => {
    if (pending()) return;
    setPending(true);
    setError(undefined);
    try {
      // The session resource turns null and <RequireAuth> takes the person to the sign-in page.
      await session.signOut();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setPending(false);
    }
  };

  return (
    <header class="topbar">
      <div class="topbar__inner">
        <A href="/" class="brand" aria-label="Image Studio, home">
          <Logo />
          <span class="brand__name">Image Studio</span>
        </A>
        <nav class="topbar__nav" aria-label="Main">
          <NavLinks class="topbar__link" secondary={true} />
        </nav>
        <div class="topbar__account">
          <Show when={session.user.latest}>
            {(user) => (
              <span class="topbar__email" title={user().email}>
                {user().email}
              </span>
            )}
          </Show>
          {/* Four destinations fit a phone's bottom bar; Usage and Settings wait here, beside signing out. */}
          <A href="/usage" class="icon-button topbar__settings" activeClass="is-active" aria-label="Usage">
            <ChartIcon />
          </A>
          <A href="/settings" class="icon-button topbar__settings" activeClass="is-active" aria-label="Settings">
            <GearIcon />
          </A>
          <button
            type="button"
            class="button button--ghost topbar__signout"
            aria-busy={pending()}
            onClick={() => void signOut()}
          >
            <SignOutIcon />
            <span>Sign out</span>
          </button>
        </div>
      </div>
      <Show when={error()}>
        <p class="topbar__error" role="alert">
          {error()}
        </p>
      </Show>
    </header>
  );
}

function BottomNav(): JSX.Element {
  return (
    <nav class="bottomnav" aria-label="Main">
      <NavLinks class="bottomnav__link" secondary={false} />
    </nav>
  );
}

function ShellSkeleton(): JSX.Element {
  return (
    <div class="shell" aria-busy="true">
      <header class="topbar">
        <div class="topbar__inner">
          <span class="brand">
            <Logo />
            <span class="brand__name">Image Studio</span>
          </span>
        </div>
      </header>
      <main id="main" class="page page--narrow" tabindex="-1">
        <span class="visually-hidden">Loading…</span>
        <div class="skeleton skeleton--title" aria-hidden="true" />
        <div class="skeleton skeleton--block" aria-hidden="true" />
      </main>
    </div>
  );
}
