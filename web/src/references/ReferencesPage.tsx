import "./references.css";
import type { Reference } from "@contract/api";
import { createEffect, For, type JSX, Match, onCleanup, onMount, Show, Switch } from "solid-js";
import { createStore, produce } from "solid-js/store";
import { errorMessage } from "../api/errors";
import { deleteReference, listReferences, referenceListQuery } from "../api/references";
import { formatAbsolute, formatBytes, formatRelative, plural } from "../lib/format";
import { announce } from "../ui/announcer";
import { ConfirmButton } from "../ui/ConfirmButton";
import { CloseIcon, PaperclipIcon, TrashIcon } from "../ui/icons";
import { usePageTitle } from "../ui/title";
import { FIRST_PAGE, PAGE_SIZE } from "./preload";
import { ReferencePickers } from "./ReferencePickers";
import { REPLICATE_STATUS_LABEL } from "./ReferenceTray";
import { createReferenceTray } from "./tray";

type Listing = {
  items: Reference[];
  nextCursor: string | null;
  loading: boolean;
  /** At least one page arrived. */
  loaded: boolean;
  error: string | null;
};

/** `/references`: every reference image, newest first, with infinite scroll. */
export function ReferencesPage(): JSX.Element {
  usePageTitle(() => "References");
  const [list, setList] = createStore<Listing>({
    items: [],
    nextCursor: null,
    loading: false,
    loaded: false,
    error: null,
  });
  const uploads = createReferenceTray();
  let sentinel: HTMLDivElement | undefined;
  let controller: AbortController | undefined;

  const load = async (cursor?: string) => {
    if (list.loading) return;
    controller = new AbortController();
    setList({ loading: true, error: null });
    try {
      // The first page is the one the route preloads.
      const page = cursor
        ? await listReferences({ limit: PAGE_SIZE, cursor }, { signal: controller.signal })
        : await referenceListQuery.load(FIRST_PAGE);
      setList(
        produce((state) => {
          const known = new Set(state.items.map((r) => r.id));
          state.items.push(...page.items.filter((r) => !known.has(r.id)));
          state.nextCursor = page.nextCursor;
          state.loaded = true;
        }),
      );
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") return;
      setList("error", errorMessage(error));
    } finally {
      setList("loading", false);
    }
  };

  const loadMore = () => {
    if (list.nextCursor && !list.loading && !list.error) void load(list.nextCursor);
  };

  onMount(() => {
    void load();
    if (!sentinel || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) loadMore();
      },
      { rootMargin: "600px 0px" },
    );
    observer.observe(sentinel);
    onCleanup(() => observer.disconnect());
  });
  onCleanup(() => controller?.abort());

  // Uploaded files join the top of the list as soon as they're stored.
  createEffect(() => {
    const ready = uploads.items.flatMap((item) =>
      item.status === "ready" && item.reference ? [{ key: item.key, reference: item.reference }] : [],
    );
    for (const { key, reference } of ready) {
      setList(
        "items",
        produce((items) => {
          const at = items.findIndex((r) => r.id === reference.id);
          if (at >= 0) items.splice(at, 1);
          items.unshift(reference);
        }),
      );
      uploads.remove(key);
    }
  });

  const remove = async (reference: Reference) => {
    await deleteReference(reference.id);
    setList("items", (items) => items.filter((r) => r.id !== reference.id));
    announce(`${reference.originalName} deleted`);
  };

  return (
    <main id="main" class="page page--medium" tabindex="-1">
      <header class="page-head">
        <h1 class="page-head__title">References</h1>
        <span class="page-head__actions">
          <ReferencePickers classes={{ add: "button--primary", camera: "" }} onFiles={(files) => uploads.add(files)} />
        </span>
      </header>
      <p class="page-lead">
        Photos that guide a generation. Each is stored once, kept for good, and sent to the model again whenever its
        copy there has expired.
      </p>

      <Show when={uploads.items.length > 0}>
        <ul class="reflist reflist--uploads" aria-label="Uploading">
          <For each={uploads.items}>
            {(item) => (
              <li class="refrow" classList={{ "refrow--failed": item.status === "failed" }}>
                <img class="refrow__thumb" src={item.previewUrl} alt="" width={64} height={64} />
                <div class="refrow__text">
                  <span class="refrow__name">{item.name}</span>
                  <Show
                    when={item.status === "failed"}
                    fallback={
                      <span
                        class="progress refrow__progress"
                        role="progressbar"
                        aria-label={`Uploading ${item.name}`}
                        aria-valuemin={0}
                        aria-valuemax={100}
                        aria-valuenow={Math.round(item.progress * 100)}
                      >
                        <span class="progress__fill" style={{ width: `${Math.max(2, item.progress * 100)}%` }} />
                      </span>
                    }
                  >
                    <span class="field__error">{item.error}</span>
                  </Show>
                </div>
                <span class="refrow__actions">
                  <Show when={item.status === "failed"}>
                    <button
                      type="button"
                      class="button button--ghost button--small"
                      onClick={() => uploads.retry(item.key)}
                    >
                      Try again
                    </button>
                  </Show>
                  <button
                    type="button"
                    class="icon-button"
                    aria-label={`Dismiss ${item.name}`}
                    onClick={() => uploads.remove(item.key)}
                  >
                    <CloseIcon />
                  </button>
                </span>
              </li>
            )}
          </For>
        </ul>
      </Show>

      <Switch>
        <Match when={!list.loaded && list.loading}>
          <ul class="reflist" aria-busy="true" aria-label="Loading references">
            <For each={Array.from({ length: 6 })}>
              {() => (
                <li class="refrow" aria-hidden="true">
                  <span class="skeleton refrow__thumb" />
                  <span class="refrow__text">
                    <span class="skeleton skeleton--line" />
                    <span class="skeleton skeleton--line skeleton--short" />
                  </span>
                </li>
              )}
            </For>
          </ul>
        </Match>
        <Match when={list.loaded && list.items.length === 0 && uploads.items.length === 0}>
          <div class="empty">
            <PaperclipIcon class="icon empty__icon" />
            <h2 class="empty__title">No reference images yet</h2>
            <p class="empty__text">Add photos here or from the prompt form; models that take references follow them.</p>
          </div>
        </Match>
        <Match when={list.items.length > 0}>
          <ul class="reflist" data-testid="reference-list">
            <For each={list.items}>{(reference) => <ReferenceRow reference={reference} onDelete={remove} />}</For>
          </ul>
        </Match>
      </Switch>

      <Show when={list.error}>
        <div class="notice notice--error" role="alert">
          <p>{list.error}</p>
          <button type="button" class="button" onClick={() => void load(list.nextCursor ?? undefined)}>
            Try again
          </button>
        </div>
      </Show>

      <div ref={sentinel} class="reflist__sentinel" aria-hidden="true" />
      <Show when={list.nextCursor && !list.error}>
        <div class="load-more">
          <button type="button" class="button" aria-busy={list.loading} onClick={loadMore}>
            {list.loading ? "Loading…" : "Load more"}
          </button>
        </div>
      </Show>
    </main>
  );
}

function ReferenceRow(props: { reference: Reference; onDelete: (reference: Reference) => Promise<void> }): JSX.Element {
  const r = () => props.reference;
  const dimensions = () => (r().width && r().height ? `${r().width} × ${r().height}` : undefined);
  return (
    <li class="refrow" data-testid="reference-row" data-reference-id={r().id}>
      <a
        class="refrow__thumb-link"
        href={r().url}
        target="_blank"
        rel="noopener"
        aria-label={`Open ${r().originalName} full size`}
      >
        <img
          class="refrow__thumb"
          src={r().thumbnailUrl}
          alt=""
          width={64}
          height={64}
          loading="lazy"
          decoding="async"
        />
      </a>
      <div class="refrow__text">
        <span class="refrow__name" title={r().originalName}>
          {r().originalName}
        </span>
        <span class="refrow__meta">
          {formatBytes(r().sizeBytes)}
          <Show when={dimensions()}>
            {(d) => (
              <>
                <span aria-hidden="true"> · </span>
                {d()}
              </>
            )}
          </Show>
          <span aria-hidden="true"> · </span>
          {r().usageCount === 0 ? "never used" : `used ${plural(r().usageCount, "time")}`}
          <Show when={r().lastUsedAt}>
            {(at) => (
              <>
                <span aria-hidden="true"> · </span>
                <span class="visually-hidden">last used </span>
                <time datetime={at()} title={`Last used ${formatAbsolute(at())}`}>
                  {formatRelative(at())}
                </time>
              </>
            )}
          </Show>
        </span>
        <span class={`refchip__status refchip__status--${r().replicateStatus}`}>
          <span class="refchip__dot" aria-hidden="true" />
          {REPLICATE_STATUS_LABEL[r().replicateStatus]}
        </span>
      </div>
      <span class="refrow__actions">
        <ConfirmButton
          label="Delete"
          ariaLabel={`Delete ${r().originalName}`}
          question="Delete this reference? Images made with it stay."
          icon={<TrashIcon />}
          onConfirm={() => props.onDelete(r())}
        />
      </span>
    </li>
  );
}
