import type { Session, SessionPage } from "@contract/api";
import { A, useSearchParams } from "@solidjs/router";
import { createResource, createSignal, For, type JSX, Match, onCleanup, Show, Switch } from "solid-js";
import { errorMessage } from "../api/errors";
import { listSessions, sessionListQuery } from "../api/sessions";
import { formatAbsolute, formatRelative, plural } from "../lib/format";
import { SearchIcon, SparkleIcon } from "../ui/icons";
import { usePageTitle } from "../ui/title";
import { firstSessionsPage, SESSION_SORTS, SESSIONS_PAGE_SIZE, type SessionsView, sessionsViewOf } from "./listQuery";
import { SessionThumb } from "./SessionThumb";

type Listing = SessionPage;

export function SessionsPage(): JSX.Element {
  usePageTitle(() => "Sessions");
  const [params, setParams] = useSearchParams<{ q: string; sort: string }>();

  const query = (): SessionsView => sessionsViewOf(params);

  // `refetch(cursor)` appends the next page to what is already shown.
  const [listing, { refetch }] = createResource<Listing, SessionsView, string>(query, async (source, info) => {
    const cursor = typeof info.refetching === "string" ? info.refetching : undefined;
    const page = cursor
      ? await listSessions({ limit: SESSIONS_PAGE_SIZE, q: source.q, sort: source.sort, order: "desc", cursor })
      : await sessionListQuery.load(firstSessionsPage(source));
    return cursor && info.value ? { items: [...info.value.items, ...page.items], nextCursor: page.nextCursor } : page;
  });
  const [loadingMore, setLoadingMore] = createSignal(false);

  // A failed page turns the resource's state to `errored`, shown below with "Try again".
  const loadMore = async () => {
    const cursor = current()?.nextCursor;
    if (!cursor || loadingMore()) return;
    setLoadingMore(true);
    try {
      await refetch(cursor);
    } finally {
      setLoadingMore(false);
    }
  };

  const [draft, setDraft] = createSignal(params.q ?? "");
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  const applySearch = (value: string) => {
    if (searchTimer !== undefined) clearTimeout(searchTimer);
    setParams({ q: value.trim() || undefined }, { replace: true });
  };
  onCleanup(() => searchTimer !== undefined && clearTimeout(searchTimer));

  /** The listing shown; reading `latest` of an errored resource would throw. */
  const current = (): Listing | undefined => (listing.state === "errored" ? undefined : listing.latest);
  const items = () => current()?.items ?? [];

  return (
    <main id="main" class="page" tabindex="-1">
      <header class="page-head">
        <h1 class="page-head__title">Sessions</h1>
        <A class="button button--primary" href="/">
          <SparkleIcon />
          New session
        </A>
      </header>

      <form
        class="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          applySearch(draft());
        }}
      >
        <div class="search">
          <label class="visually-hidden" for="sessions-search">
            Search sessions
          </label>
          <SearchIcon class="icon search__icon" />
          <input
            id="sessions-search"
            class="input search__input"
            type="search"
            placeholder="Search by title"
            autocomplete="off"
            value={draft()}
            onInput={(e) => {
              const value = e.currentTarget.value;
              setDraft(value);
              if (searchTimer !== undefined) clearTimeout(searchTimer);
              searchTimer = setTimeout(() => applySearch(value), 250);
            }}
          />
        </div>
        <div class="toolbar__sort">
          <label class="toolbar__label" for="sessions-sort">
            Sort by
          </label>
          <select
            id="sessions-sort"
            class="select select--compact"
            onChange={(e) =>
              setParams({ sort: e.currentTarget.value === "updated" ? undefined : e.currentTarget.value })
            }
          >
            <For each={SESSION_SORTS}>
              {(sort) => (
                <option value={sort.id} selected={sort.id === query().sort}>
                  {sort.label}
                </option>
              )}
            </For>
          </select>
        </div>
      </form>

      <Switch>
        <Match when={listing.state === "errored"}>
          <div class="notice notice--error" role="alert">
            <p>{errorMessage(listing.error)}</p>
            <button type="button" class="button" onClick={() => void refetch()}>
              Try again
            </button>
          </div>
        </Match>
        <Match when={listing.loading && items().length === 0}>
          <ul class="session-grid" aria-busy="true" aria-label="Loading sessions">
            <For each={Array.from({ length: 8 })}>
              {() => (
                <li class="session-card session-card--skeleton" aria-hidden="true">
                  <span class="skeleton session-card__thumb" />
                  <span class="skeleton skeleton--line" />
                  <span class="skeleton skeleton--line skeleton--short" />
                </li>
              )}
            </For>
          </ul>
        </Match>
        <Match when={items().length === 0}>
          <div class="empty">
            <Show
              when={query().q}
              fallback={
                <>
                  <SparkleIcon class="icon empty__icon" />
                  <h2 class="empty__title">No sessions yet</h2>
                  <p class="empty__text">Describe an image in the Studio and your first session starts there.</p>
                  <A class="button button--primary" href="/">
                    Open the Studio
                  </A>
                </>
              }
            >
              <SearchIcon class="icon empty__icon" />
              <h2 class="empty__title">Nothing matches “{query().q}”</h2>
              <p class="empty__text">Try fewer words, or clear the search to see every session.</p>
              <button
                type="button"
                class="button"
                onClick={() => {
                  setDraft("");
                  applySearch("");
                }}
              >
                Clear search
              </button>
            </Show>
          </div>
        </Match>
        <Match when={items().length > 0}>
          <ul class="session-grid" aria-busy={listing.loading && !loadingMore()}>
            <For each={items()}>{(session) => <SessionCard session={session} />}</For>
          </ul>
          <Show when={current()?.nextCursor}>
            <div class="load-more">
              <button type="button" class="button" aria-busy={loadingMore()} onClick={() => void loadMore()}>
                {loadingMore() ? "Loading…" : "Load more"}
              </button>
            </div>
          </Show>
        </Match>
      </Switch>
    </main>
  );
}

function SessionCard(props: { session: Session }): JSX.Element {
  const failedNote = () => {
    const s = props.session;
    return s.failedCount > 0 ? `${s.succeededCount} of ${s.generationCount} succeeded` : undefined;
  };
  return (
    <li class="session-card">
      <A class="session-card__link" href={`/sessions/${encodeURIComponent(props.session.id)}`}>
        <SessionThumb url={props.session.thumbnailUrl} size={320} class="session-card__thumb" />
        <span class="session-card__title">{props.session.title || "Untitled session"}</span>
        <span class="session-card__meta">
          {plural(props.session.generationCount, "generation")}
          <span aria-hidden="true"> · </span>
          <span class="visually-hidden">, last activity </span>
          <time datetime={props.session.lastActivityAt} title={formatAbsolute(props.session.lastActivityAt)}>
            {formatRelative(props.session.lastActivityAt)}
          </time>
        </span>
        <Show when={failedNote()}>{(note) => <span class="session-card__note">{note()}</span>}</Show>
      </A>
    </li>
  );
}
