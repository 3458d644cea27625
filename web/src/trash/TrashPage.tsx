import "./trash.css";
import { TRASH_RETENTION_DAYS, type TrashItem } from "@contract/trash";
import { A } from "@solidjs/router";
import { createSignal, For, type JSX, Match, onCleanup, onMount, Show, Switch } from "solid-js";
import { createStore, produce } from "solid-js/store";
import { errorMessage } from "../api/errors";
import { listTrash, restoreFromTrash, trashListQuery } from "../api/trash";
import { formatAbsolute, formatRelative, plural } from "../lib/format";
import { announce } from "../ui/announcer";
import { ImageIcon, RetryIcon, TrashIcon } from "../ui/icons";
import { usePageTitle } from "../ui/title";
import { FIRST_TRASH_PAGE, TRASH_PAGE_SIZE } from "./preload";

type Listing = {
  items: TrashItem[];
  nextCursor: string | null;
  loading: boolean;
  loaded: boolean;
  error: string | null;
};

const KIND_LABEL = { session: "Session", generation: "Generation", asset: "Image" } as const;

/** `/trash`: what was deleted in the last 30 days, most recent first; each can be brought back. */
export function TrashPage(): JSX.Element {
  usePageTitle(() => "Trash");
  const [list, setList] = createStore<Listing>({
    items: [],
    nextCursor: null,
    loading: false,
    loaded: false,
    error: null,
  });
  let sentinel: HTMLDivElement | undefined;

  const load = async (cursor?: string) => {
    if (list.loading) return;
    setList({ loading: true, error: null });
    try {
      const page = cursor
        ? await listTrash({ limit: TRASH_PAGE_SIZE, cursor })
        : await trashListQuery.load(FIRST_TRASH_PAGE);
      setList(
        produce((state) => {
          const known = new Set(state.items.map((item) => item.id));
          state.items.push(...page.items.filter((item) => !known.has(item.id)));
          state.nextCursor = page.nextCursor;
          state.loaded = true;
        }),
      );
    } catch (error) {
      setList("error", errorMessage(error));
    } finally {
      setList("loading", false);
    }
  };

  onMount(() => {
    void load();
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && list.nextCursor) void load(list.nextCursor);
    });
    if (sentinel) observer.observe(sentinel);
    onCleanup(() => observer.disconnect());
  });

  const restored = (id: string) => setList("items", (items) => items.filter((item) => item.id !== id));

  return (
    <main id="main" class="page page--narrow" tabindex="-1">
      <header class="page-head">
        <h1 class="page-head__title">Trash</h1>
      </header>
      <p class="trash__lead">
        Deleted sessions, generations and images stay here for {TRASH_RETENTION_DAYS} days, then they are removed for
        good.
      </p>

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
          <ul class="trash-list" aria-busy="true" aria-label="Loading the trash">
            <For each={[0, 1, 2]}>
              {() => (
                <li class="trash-item" aria-hidden="true">
                  <span class="skeleton trash-item__thumb" />
                  <span class="skeleton skeleton--line" />
                </li>
              )}
            </For>
          </ul>
        </Match>
        <Match when={list.items.length === 0}>
          <div class="empty">
            <TrashIcon class="icon empty__icon" />
            <h2 class="empty__title">The trash is empty</h2>
            <p class="empty__text">
              What you delete waits here for {TRASH_RETENTION_DAYS} days, in case you change your mind.
            </p>
            <A class="button" href="/gallery">
              Back to the gallery
            </A>
          </div>
        </Match>
        <Match when={list.items.length > 0}>
          <ul class="trash-list">
            <For each={list.items}>{(item) => <TrashRow item={item} onRestored={() => restored(item.id)} />}</For>
          </ul>
        </Match>
      </Switch>
      <div ref={sentinel} class="trash__sentinel" aria-hidden="true" />
      <Show when={list.loaded && list.error}>
        <div class="notice notice--error" role="alert">
          <p>{list.error}</p>
          <button type="button" class="button" onClick={() => void load(list.nextCursor ?? undefined)}>
            Try again
          </button>
        </div>
      </Show>
    </main>
  );
}

function TrashRow(props: { item: TrashItem; onRestored: () => void }): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const restore = async () => {
    if (busy()) return;
    setBusy(true);
    setError(undefined);
    try {
      await restoreFromTrash(props.item.id);
      announce(`${KIND_LABEL[props.item.kind]} restored`);
      props.onRestored();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const thumb = () => props.item.thumbnails.find((t) => t.width >= 256)?.url ?? props.item.thumbnailUrl;
  return (
    <li class="trash-item" data-testid="trash-item" data-id={props.item.id}>
      <span class="trash-item__thumb">
        <Show when={thumb()} fallback={<ImageIcon class="icon" />}>
          {(url) => <img src={url()} alt="" width={56} height={56} loading="lazy" decoding="async" />}
        </Show>
      </span>
      <span class="trash-item__text">
        <span class="trash-item__title">{props.item.title || "Untitled"}</span>
        <span class="trash-item__meta">
          {KIND_LABEL[props.item.kind]}
          <Show when={props.item.kind !== "session"}> · {props.item.sessionTitle || "Untitled session"}</Show>
          <Show when={props.item.imageCount > 0}> · {plural(props.item.imageCount, "image")}</Show>
          {" · deleted "}
          <time datetime={props.item.trashedAt} title={formatAbsolute(props.item.trashedAt)}>
            {formatRelative(props.item.trashedAt)}
          </time>
        </span>
        <Show when={error()}>
          <span class="field__error" role="alert">
            {error()}
          </span>
        </Show>
      </span>
      <button
        type="button"
        class="button button--small trash-item__restore"
        aria-busy={busy()}
        aria-label={`Restore ${KIND_LABEL[props.item.kind].toLowerCase()}: ${props.item.title}`}
        onClick={() => void restore()}
      >
        <RetryIcon />
        <span>Restore</span>
      </button>
    </li>
  );
}
