import type { Session, SessionPage, SessionSort } from "@contract/api";
import { A, type RoutePreloadFuncArgs, useSearchParams } from "@solidjs/router";
import { createResource, createSignal, For, type JSX, Match, onCleanup, Show, Switch } from "solid-js";
import { errorMessage } from "../api/errors";
import { listSessions, type SessionListQuery, sessionListQuery } from "../api/sessions";
import { formatAbsolute, formatRelative, plural } from "../lib/format";
import { SearchIcon, SparkleIcon } from "../ui/icons";
import { usePageTitle } from "../ui/title";
import { SessionThumb } from "./SessionThumb";

type SortKey = SessionSort;
const SORTS: { id: SortKey; label: string }[] = [
  { id: "updated", label: "Last activity" },
  { id: "created", label: "Newest" },
  { id: "generations", label: "Most generations" },
  { id: "successRate", label: "Success rate" },
];
const PAGE_SIZE = 24;

type Query = { q: string; sort: SortKey };
type Listing = SessionPage;

/** The search and sort of `?q=&sort=`; an unknown sort is the default one. */
function queryOf(params: { q?: string | string[]; sort?: string | string[] }): Query {
  const q = typeof params.q === "string" ? params.q.trim() : "";
  const sort = SORTS.find((option) => option.id === params.sort)?.id ?? "updated";
  return { q, sort };
}

/** The first page of what `?q=&sort=` asks for. */
const firstPage = (source: Query): SessionListQuery => ({
  limit: PAGE_SIZE,
  q: source.q,
  sort: source.sort,
  order: "desc",
});

/** The route's preload: the first page, fetched while the page is on its way. */
export const preloadSessions = (args: RoutePreloadFuncArgs) =>
  sessionListQuery.preload(firstPage(queryOf(args.location.query)));

export function SessionsPage(): JSX.Element {
  usePageTitle(() => "Sessions");
  const [params, setParams] = useSearchParams<{ q: string; sort: string }>();

  const query = (): Query => queryOf(params);

  // `refetch(cursor)` appends the next page to what is already shown.
  const [listing, { refetch }] = createResource<Listing, Query, string>(query, async (source, info) => {
    const cursor = typeof info.refetching === "string" ? info.refetching : undefined;
    const page = cursor
      ? await listSessions({ limit: PAGE_SIZE, q: source.q, sort: source.sort, order: "desc", cursor })
      : await sessionListQuery.load(firstPage(source));
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
            <For each={SORTS}>
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
