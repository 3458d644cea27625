import "./gallery.css";
import { GENERATION_STATUSES } from "@contract/api";
import { A, useSearchParams } from "@solidjs/router";
import { createMemo, createSignal, type JSX, Match, onCleanup, onMount, Show, Switch } from "solid-js";
import { Lightbox, trashImage } from "../images";
import { modelLabel, useModels } from "../models";
import { ClearFiltersChip, DateRangeChip, FilterChips, SearchToolbar, SelectChip, ToggleChip } from "../ui/filters";
import { GridIcon, SearchIcon, SparkleIcon, StarIcon, TrashIcon } from "../ui/icons";
import { usePageTitle } from "../ui/title";
import { createGalleryFeed } from "./feed";
import { GalleryTile, watchThumbnails } from "./GalleryTile";
import { VirtualGrid } from "./VirtualGrid";
import { type GalleryView, galleryViewOf, isFiltered } from "./view";

type GalleryParams = {
  q?: string;
  model?: string;
  status?: string;
  from?: string;
  to?: string;
  starred?: string;
  minWidth?: string;
  session?: string;
  view?: string;
};

const MIN_WIDTHS = [
  { value: "512", label: "512 px wide +" },
  { value: "1024", label: "1024 px wide +" },
  { value: "2048", label: "2048 px wide +" },
];

/** `/gallery`: every image made, newest first, searchable and filtered, opened full size in place. */
export function GalleryPage(): JSX.Element {
  usePageTitle(() => "Gallery");
  const [params, setParams] = useSearchParams<GalleryParams>();
  const view = createMemo((): GalleryView => galleryViewOf(params), undefined, {
    equals: (a, b) => JSON.stringify(a) === JSON.stringify(b),
  });
  const feed = createGalleryFeed(view);
  // Bigger tiles where there is room; three across on a phone.
  const wideQuery = window.matchMedia("(min-width: 768px)");
  const [wide, setWide] = createSignal(wideQuery.matches);
  const onWidth = () => setWide(wideQuery.matches);
  wideQuery.addEventListener("change", onWidth);
  onCleanup(() => wideQuery.removeEventListener("change", onWidth));
  const models = useModels();

  const setFilter = (change: Partial<Record<keyof GalleryParams, string | undefined>>) =>
    setParams({ ...change, view: undefined }, { replace: true });

  // The viewer: `?view=<id>`. Opening it adds a history entry, so "back" closes it.
  let openedHere = false;
  const openIndex = () => (params.view ? feed.state.items.findIndex((item) => item.id === params.view) : -1);
  const open = (id: string) => {
    openedHere = true;
    setParams({ view: id }, { scroll: false });
  };
  const close = () => {
    if (openedHere) {
      openedHere = false;
      history.back();
    } else {
      setParams({ view: undefined }, { replace: true, scroll: false });
    }
  };
  const moveTo = (index: number) => {
    const item = feed.state.items[index];
    if (item) setParams({ view: item.id }, { replace: true, scroll: false });
  };
  const move = async (step: -1 | 1) => {
    const next = openIndex() + step;
    if (next >= feed.state.items.length) await feed.loadMore();
    moveTo(next);
  };

  const remove = async (id: string) => {
    let removedAt = -1;
    const item = feed.state.items.find((other) => other.id === id);
    if (!item) return;
    await trashImage(id, {
      removed: () => {
        const wasOpen = params.view === id;
        removedAt = feed.remove(id);
        if (!wasOpen) return;
        // The viewer shows the image that took its place, else the one before, else closes.
        const next = feed.state.items[removedAt] ?? feed.state.items[removedAt - 1];
        if (next) setParams({ view: next.id }, { replace: true, scroll: false });
        else close();
      },
      restored: () => feed.putBack(item, removedAt),
    });
  };

  const modelOptions = () => models().map((model) => ({ value: model.id, label: modelLabel(model) }));
  const statusOptions = GENERATION_STATUSES.map((status) => ({ value: status, label: status.replace("_", " ") }));

  let main: HTMLElement | undefined;
  onMount(() => {
    if (main) onCleanup(watchThumbnails(main));
  });

  return (
    <main ref={main} id="main" class="page gallery" tabindex="-1">
      <header class="page-head">
        <h1 class="page-head__title">Gallery</h1>
        <A class="button button--ghost" href="/trash">
          <TrashIcon />
          Trash
        </A>
      </header>

      <SearchToolbar
        id="gallery-search"
        label="Search images"
        placeholder="Search prompts and session titles"
        value={params.q}
        onSearch={(q) => setFilter({ q })}
      />

      <FilterChips label="Filters">
        <ToggleChip
          label="Starred"
          icon={<StarIcon filled={view().starred} />}
          on={view().starred}
          onToggle={(on) => setFilter({ starred: on ? "1" : undefined })}
        />
        <SelectChip
          label="Model"
          anyLabel="Any model"
          value={view().model}
          options={modelOptions()}
          onChange={(model) => setFilter({ model })}
          testId="filter-model"
        />
        <DateRangeChip value={{ from: view().from, to: view().to }} onChange={(range) => setFilter(range)} />
        <SelectChip
          label="Size"
          anyLabel="Any size"
          value={view().minWidth ? String(view().minWidth) : undefined}
          options={MIN_WIDTHS}
          onChange={(minWidth) => setFilter({ minWidth })}
        />
        <SelectChip
          label="Status"
          anyLabel="Any status"
          value={view().status}
          options={statusOptions}
          onChange={(status) => setFilter({ status })}
        />
        <Show when={view().session}>
          <ToggleChip label="This session only" on={true} onToggle={() => setFilter({ session: undefined })} />
        </Show>
        <Show when={isFiltered(view())}>
          <ClearFiltersChip
            onClear={() =>
              setFilter({
                model: undefined,
                status: undefined,
                from: undefined,
                to: undefined,
                starred: undefined,
                minWidth: undefined,
                session: undefined,
              })
            }
          />
        </Show>
      </FilterChips>

      <Switch>
        <Match when={!feed.state.loaded && feed.state.error}>
          <div class="notice notice--error" role="alert">
            <p>{feed.state.error}</p>
            <button type="button" class="button" onClick={() => feed.retry()}>
              Try again
            </button>
          </div>
        </Match>
        <Match when={!feed.state.loaded}>
          <div class="gallery-skeleton" aria-busy="true">
            <span class="visually-hidden">Loading images…</span>
          </div>
        </Match>
        <Match when={feed.state.items.length === 0}>
          <div class="empty">
            <Show
              when={view().q || isFiltered(view())}
              fallback={
                <>
                  <GridIcon class="icon empty__icon" />
                  <h2 class="empty__title">No images yet</h2>
                  <p class="empty__text">Everything you make shows up here, newest first.</p>
                  <A class="button button--primary" href="/">
                    <SparkleIcon />
                    Make one
                  </A>
                </>
              }
            >
              <SearchIcon class="icon empty__icon" />
              <h2 class="empty__title">Nothing matches</h2>
              <p class="empty__text">Try fewer words, or clear the filters.</p>
              <button
                type="button"
                class="button"
                onClick={() => {
                  setParams(
                    {
                      q: undefined,
                      model: undefined,
                      status: undefined,
                      from: undefined,
                      to: undefined,
                      starred: undefined,
                      minWidth: undefined,
                      session: undefined,
                    },
                    { replace: true },
                  );
                }}
              >
                Show everything
              </button>
            </Show>
          </div>
        </Match>
        <Match when={feed.state.items.length > 0}>
          <VirtualGrid
            items={feed.state.items}
            hasMore={Boolean(feed.state.nextCursor) && !feed.state.error}
            loading={feed.state.loading}
            onEndReached={() => void feed.loadMore()}
            minTileWidth={wide() ? 180 : 104}
            gap={4}
            label="Images"
          >
            {(item, width) => <GalleryTile item={item} width={width} onOpen={open} />}
          </VirtualGrid>
          <Show when={feed.state.loading}>
            <p class="gallery__more" aria-live="polite">
              Loading more…
            </p>
          </Show>
          <Show when={feed.state.error}>
            <div class="notice notice--error gallery__more" role="alert">
              <p>{feed.state.error}</p>
              <button type="button" class="button" onClick={() => feed.retry()}>
                Try again
              </button>
            </div>
          </Show>
        </Match>
      </Switch>

      <Show when={openIndex() >= 0 ? feed.state.items[openIndex()] : undefined}>
        {(image) => (
          <Lightbox
            image={image()}
            position={openIndex()}
            total={feed.state.items.length}
            more={Boolean(feed.state.nextCursor)}
            onMove={(step) => void move(step)}
            onClose={close}
            onDelete={() => remove(image().id)}
          />
        )}
      </Show>
    </main>
  );
}
