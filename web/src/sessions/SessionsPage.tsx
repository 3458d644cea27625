import type { Session } from "@contract/api";
import { GENERATION_STATUSES } from "@contract/api";
import { A, useNavigate, useSearchParams } from "@solidjs/router";
import { createEffect, createMemo, createSignal, For, type JSX, Match, on, onCleanup, Show, Switch } from "solid-js";
import { createStore, produce } from "solid-js/store";
import { errorMessage } from "../api/errors";
import { listSessions, sessionListQuery } from "../api/sessions";
import { formatAbsolute, formatRelative, plural } from "../lib/format";
import { modelLabel, useModels } from "../models";
import { ClearFiltersChip, DateRangeChip, FilterChips, SearchToolbar, SelectChip } from "../ui/filters";
import { SearchIcon, SparkleIcon } from "../ui/icons";
import { usePageTitle } from "../ui/title";
import { ImportButton } from "./ImportButton";
import { isSessionsFiltered, SESSION_SORTS, type SessionsView, sessionsPageOf, sessionsViewOf } from "./listQuery";
import { cloneAndAnnounce, trashSession } from "./manage";
import { SessionMenu } from "./SessionMenu";
import { SessionThumb } from "./SessionThumb";
import { SessionTitleEditor } from "./SessionTitle";

type SessionsParams = { q?: string; sort?: string; model?: string; status?: string; from?: string; to?: string };
type Listing = { items: Session[]; nextCursor: string | null; loading: boolean; loaded: boolean; error: string | null };

const href = (id: string) => `/sessions/${encodeURIComponent(id)}`;

/** `/sessions`: search (titles and prompts), filters and sort in the URL; each session managed in place. */
export function SessionsPage(): JSX.Element {
  usePageTitle(() => "Sessions");
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams<SessionsParams>();
  const view = createMemo((): SessionsView => sessionsViewOf(params), undefined, {
    equals: (a, b) => JSON.stringify(a) === JSON.stringify(b),
  });
  const models = useModels();

  const [list, setList] = createStore<Listing>({
    items: [],
    nextCursor: null,
    loading: false,
    loaded: false,
    error: null,
  });
  let controller: AbortController | undefined;
  const load = async (cursor?: string) => {
    const current = view();
    controller?.abort();
    controller = new AbortController();
    const signal = controller.signal;
    setList({ loading: true, error: null });
    try {
      // The first page is the one the route preloaded.
      const page = cursor
        ? await listSessions(sessionsPageOf(current, cursor), { signal })
        : await sessionListQuery.load(sessionsPageOf(current));
      if (signal.aborted) return;
      setList(
        produce((state) => {
          if (!cursor) state.items = [];
          const known = new Set(state.items.map((s) => s.id));
          state.items.push(...page.items.filter((s) => !known.has(s.id)));
          state.nextCursor = page.nextCursor;
          state.loaded = true;
        }),
      );
    } catch (error) {
      if (!signal.aborted) setList("error", errorMessage(error));
    } finally {
      if (!signal.aborted) setList("loading", false);
    }
  };
  createEffect(
    on(view, () => {
      setList({ loaded: false });
      void load();
    }),
  );
  onCleanup(() => controller?.abort());

  const setFilter = (change: Partial<SessionsParams>) => setParams(change, { replace: true });
  const clearAll = () => {
    setFilter({ q: undefined, model: undefined, status: undefined, from: undefined, to: undefined });
  };

  const replace = (session: Session) =>
    setList("items", (items) => items.map((s) => (s.id === session.id ? { ...s, ...session } : s)));
  const remove = async (session: Session) => {
    let at = -1;
    await trashSession(session, {
      removed: () => {
        at = list.items.findIndex((s) => s.id === session.id);
        setList("items", (items) => items.filter((s) => s.id !== session.id));
      },
      restored: () =>
        setList(
          produce((state) => {
            if (!state.items.some((s) => s.id === session.id)) state.items.splice(Math.max(0, at), 0, session);
          }),
        ),
    });
  };
  const clone = async (session: Session) => {
    const copy = await cloneAndAnnounce(session);
    navigate(href(copy.id));
  };

  const modelOptions = () => models().map((model) => ({ value: model.id, label: modelLabel(model) }));
  const statusOptions = GENERATION_STATUSES.map((status) => ({ value: status, label: status.replace("_", " ") }));

  return (
    <main id="main" class="page" tabindex="-1">
      <header class="page-head">
        <h1 class="page-head__title">Sessions</h1>
        <div class="page-head__actions">
          <ImportButton onImported={(session) => navigate(href(session.id))} />
          <A class="button button--primary" href="/">
            <SparkleIcon />
            New session
          </A>
        </div>
      </header>

      <SearchToolbar
        id="sessions-search"
        label="Search sessions"
        placeholder="Search titles and prompts"
        value={params.q}
        onSearch={(q) => setFilter({ q })}
      >
        <div class="toolbar__sort">
          <label class="toolbar__label" for="sessions-sort">
            Sort by
          </label>
          <select
            id="sessions-sort"
            class="select select--compact"
            onChange={(e) =>
              setFilter({ sort: e.currentTarget.value === "updated" ? undefined : e.currentTarget.value })
            }
          >
            <For each={SESSION_SORTS}>
              {(sort) => (
                <option value={sort.id} selected={sort.id === view().sort}>
                  {sort.label}
                </option>
              )}
            </For>
          </select>
        </div>
      </SearchToolbar>

      <FilterChips label="Filters">
        <SelectChip
          label="Model"
          anyLabel="Any model"
          value={view().model}
          options={modelOptions()}
          onChange={(model) => setFilter({ model })}
        />
        <SelectChip
          label="Status"
          anyLabel="Any status"
          value={view().status}
          options={statusOptions}
          onChange={(status) => setFilter({ status })}
        />
        <DateRangeChip value={{ from: view().from, to: view().to }} onChange={(range) => setFilter(range)} />
        <Show when={isSessionsFiltered(view())}>
          <ClearFiltersChip
            onClear={() => setFilter({ model: undefined, status: undefined, from: undefined, to: undefined })}
          />
        </Show>
      </FilterChips>

      <Switch>
        <Match when={!list.loaded && list.error}>
          <div class="notice notice--error" role="alert">
            <p>{list.error}</p>
            <button type="button" class="button" onClick={() => void load()}>
              Try again
            </button>
          </div>
        </Match>
        <Match when={!list.loaded}>
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
        <Match when={list.items.length === 0}>
          <div class="empty">
            <Show
              when={view().q || isSessionsFiltered(view())}
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
              <h2 class="empty__title">{view().q ? `Nothing matches “${view().q}”` : "Nothing matches"}</h2>
              <p class="empty__text">Try fewer words, or clear the search and filters to see every session.</p>
              <button type="button" class="button" onClick={clearAll}>
                Show every session
              </button>
            </Show>
          </div>
        </Match>
        <Match when={list.items.length > 0}>
          <ul class="session-grid" aria-busy={list.loading}>
            <For each={list.items}>
              {(session) => (
                <SessionCard
                  session={session}
                  onRenamed={replace}
                  onClone={() => clone(session)}
                  onDelete={() => remove(session)}
                />
              )}
            </For>
          </ul>
          <Show when={list.nextCursor}>
            {(cursor) => (
              <div class="load-more">
                <Show when={list.error}>
                  <p class="field__error" role="alert">
                    {list.error}
                  </p>
                </Show>
                <button type="button" class="button" aria-busy={list.loading} onClick={() => void load(cursor())}>
                  {list.loading ? "Loading…" : "Load more"}
                </button>
              </div>
            )}
          </Show>
        </Match>
      </Switch>
    </main>
  );
}

function SessionCard(props: {
  session: Session;
  onRenamed: (session: Session) => void;
  onClone: () => Promise<void>;
  onDelete: () => Promise<void>;
}): JSX.Element {
  const [renaming, setRenaming] = createSignal(false);
  const failedNote = () => {
    const s = props.session;
    return s.failedCount > 0 ? `${s.succeededCount} of ${s.generationCount} succeeded` : undefined;
  };
  return (
    <li class="session-card" data-testid="session-card" data-id={props.session.id}>
      <Show
        when={!renaming()}
        fallback={
          <div class="session-card__editing">
            <SessionThumb url={props.session.thumbnailUrl} size={320} class="session-card__thumb" />
            <SessionTitleEditor
              session={props.session}
              id={`rename-${props.session.id}`}
              onSaved={props.onRenamed}
              onDone={() => setRenaming(false)}
            />
          </div>
        }
      >
        <A class="session-card__link" href={href(props.session.id)}>
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
        <SessionMenu
          session={props.session}
          class="session-card__menu"
          onRename={() => setRenaming(true)}
          onClone={props.onClone}
          onDelete={props.onDelete}
        />
      </Show>
    </li>
  );
}
