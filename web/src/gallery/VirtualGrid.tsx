import { createWindowVirtualizer } from "@tanstack/solid-virtual";
import { createEffect, createSignal, For, type JSX, on, onCleanup, onMount } from "solid-js";

export type VirtualGridProps<T> = {
  items: readonly T[];
  /** More items exist past the last one; `onEndReached` asks for them. */
  hasMore: boolean;
  onEndReached: () => void;
  /** Tiles are square, at least this wide (CSS px); columns fill the width. */
  minTileWidth: number;
  gap: number;
  label: string;
  /** `tileWidth`: the tile's width in CSS px, for `sizes`. */
  children: (item: T, index: number, tileWidth: number) => JSX.Element;
};

/** Rows rendered beyond the screen, each way: enough for a fast flick, few enough to stay light. */
const OVERSCAN_ROWS = 2;
/** Ask for the next page this many screens before the end, so a quick flick rarely waits. */
const PREFETCH_SCREENS = 3;

/**
 * A responsive grid of square tiles in the page's own scroll (so a phone's toolbars collapse as
 * usual), of which only the rows on screen (and a few around) are in the DOM: at 10,000 items it
 * holds as many nodes as at 100. Rows are laid out by @tanstack/solid-virtual.
 */
export function VirtualGrid<T>(props: VirtualGridProps<T>): JSX.Element {
  let container: HTMLDivElement | undefined;
  const [width, setWidth] = createSignal(0);
  const [offsetTop, setOffsetTop] = createSignal(0);
  // Kept from resizes: reading `window.innerHeight` right after the rows change forces a layout
  // in the middle of rendering, once per scroll event.
  const [viewportHeight, setViewportHeight] = createSignal(window.innerHeight);

  const columns = () => Math.max(1, Math.floor((width() + props.gap) / (props.minTileWidth + props.gap)));
  const tileWidth = () => (width() - props.gap * (columns() - 1)) / columns();
  const rowCount = () => Math.ceil(props.items.length / columns());

  const virtualizer = createWindowVirtualizer({
    get count() {
      return rowCount();
    },
    estimateSize: () => tileWidth() + props.gap,
    overscan: OVERSCAN_ROWS,
    get scrollMargin() {
      return offsetTop();
    },
  });

  const measure = () => {
    setViewportHeight(window.innerHeight);
    if (!container) return;
    setWidth(container.clientWidth);
    setOffsetTop(container.getBoundingClientRect().top + window.scrollY);
  };
  onMount(() => {
    measure();
    const observer = new ResizeObserver(measure);
    if (container) observer.observe(container);
    // What sits above the grid (filters that wrap, a notice) moves it down without resizing it.
    const above = container?.parentElement;
    if (above) observer.observe(above);
    window.addEventListener("resize", measure);
    onCleanup(() => {
      observer.disconnect();
      window.removeEventListener("resize", measure);
    });
  });

  // Tiles change size with the width: every row's size is estimated again.
  createEffect(on(tileWidth, () => virtualizer.measure(), { defer: true }));

  createEffect(() => {
    const rows = virtualizer.getVirtualItems();
    const last = rows[rows.length - 1];
    const prefetchRows = Math.ceil((PREFETCH_SCREENS * viewportHeight()) / Math.max(1, tileWidth() + props.gap));
    if (props.hasMore && (rowCount() === 0 || (last && last.index >= rowCount() - prefetchRows))) props.onEndReached();
  });

  // The items themselves (not wrappers), so a tile keeps its DOM when pages are appended.
  const rowItems = (row: number) => props.items.slice(row * columns(), (row + 1) * columns());

  return (
    <div
      ref={container}
      class="vgrid"
      role="list"
      aria-label={props.label}
      data-count={props.items.length}
      data-more={props.hasMore}
      style={{ height: `${virtualizer.getTotalSize()}px` }}
    >
      <For each={virtualizer.getVirtualItems()}>
        {(row) => (
          <div
            class="vgrid__row"
            role="presentation"
            style={{
              transform: `translateY(${row.start - offsetTop()}px)`,
              height: `${tileWidth()}px`,
              "grid-template-columns": `repeat(${columns()}, minmax(0, 1fr))`,
              gap: `${props.gap}px`,
            }}
          >
            <For each={rowItems(row.index)}>
              {(item, column) => {
                const index = () => row.index * columns() + column();
                return (
                  <div
                    class="vgrid__cell"
                    role="listitem"
                    aria-posinset={index() + 1}
                    aria-setsize={props.items.length}
                  >
                    {props.children(item, index(), tileWidth())}
                  </div>
                );
              }}
            </For>
          </div>
        )}
      </For>
    </div>
  );
}
