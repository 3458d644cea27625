import { batch, createEffect, createMemo, createSignal, For, type JSX, onCleanup, onMount } from "solid-js";
import { unwrap } from "solid-js/store";

export type VirtualGridProps<T> = {
  items: readonly T[];
  /** More items exist past the last one; `onEndReached` asks for them. */
  hasMore: boolean;
  /** A page is on its way: the end is looked at again once it is in (and asked for again if still near). */
  loading: boolean;
  onEndReached: () => void;
  /** Tiles are square, at least this wide (CSS px); columns fill the width. */
  minTileWidth: number;
  gap: number;
  label: string;
  /** `tileWidth`: the tile's width in CSS px, for `sizes`. */
  children: (item: T, tileWidth: number) => JSX.Element;
};

/** Rows rendered beyond the screen, each way: enough for a fast flick, few enough to stay light. */
const OVERSCAN_ROWS = 2;
/** Ask for the next page this many screens before the end, so a quick flick rarely waits. */
const PREFETCH_SCREENS = 3;
/** The list counts as still once no scroll event came for this long. */
const SETTLE_MS = 150;

type RowRange = { first: number; end: number };
const sameRange = (a: RowRange, b: RowRange) => a.first === b.first && a.end === b.end;

/**
 * A responsive grid of square tiles in the page's own scroll (so a phone's toolbars collapse as
 * usual), of which only the rows on screen (and a few around) are in the DOM: at 10,000 items it
 * holds as many nodes as at 100.
 *
 * Every row is as tall as a tile, so which rows show is arithmetic on the scroll offset: a scroll
 * event reads `window.scrollY` (no layout) and changes nothing unless a row comes in or goes out.
 * Rows are keyed by their number, so a row that stays on screen keeps its DOM and its tiles, and
 * the DOM stays in reading order for the keyboard and screen readers.
 */
export function VirtualGrid<T>(props: VirtualGridProps<T>): JSX.Element {
  let container: HTMLDivElement | undefined;
  const [width, setWidth] = createSignal(0);
  const [offsetTop, setOffsetTop] = createSignal(0);
  const [scrollY, setScrollY] = createSignal(window.scrollY);
  // Kept from resizes: reading `window.innerHeight` right after the rows change forces a layout
  // in the middle of rendering, once per scroll event.
  const [viewportHeight, setViewportHeight] = createSignal(window.innerHeight);

  const columns = createMemo(() => Math.max(1, Math.floor((width() + props.gap) / (props.minTileWidth + props.gap))));
  const tileWidth = createMemo(() => (width() - props.gap * (columns() - 1)) / columns());
  const rowHeight = () => tileWidth() + props.gap;
  const rowCount = createMemo(() => Math.ceil(props.items.length / columns()));

  const range = createMemo<RowRange>(
    () => {
      // Not measured yet: nothing to place.
      if (width() === 0) return { first: 0, end: 0 };
      const top = scrollY() - offsetTop();
      const first = Math.max(0, Math.floor(top / rowHeight()) - OVERSCAN_ROWS);
      const end = Math.min(rowCount(), Math.ceil((top + viewportHeight()) / rowHeight()) + OVERSCAN_ROWS);
      return { first, end: Math.max(first, end) };
    },
    { first: 0, end: 0 },
    { equals: sameRange },
  );
  const rows = createMemo(() => {
    const { first, end } = range();
    return Array.from({ length: end - first }, (_, offset) => first + offset);
  });

  const measure = () => {
    // Every read before any write: a write re-renders rows (when the offset moved a row in), and a
    // read after it would lay the page out again, in the frame that delivered the resize.
    const height = window.innerHeight;
    const offset = window.scrollY;
    const box = container ? { width: container.clientWidth, top: container.getBoundingClientRect().top } : undefined;
    batch(() => {
      setViewportHeight(height);
      setScrollY(offset);
      if (!box) return;
      setWidth(box.width);
      setOffsetTop(box.top + offset);
    });
  };
  // `is-scrolling` while the list moves, so that what only matters to a still list (a tile's
  // loading shimmer: an animated layer each) is not made and unmade for every row flung past.
  let settling: ReturnType<typeof setTimeout> | undefined;
  const settled = () => {
    settling = undefined;
    container?.classList.remove("is-scrolling");
  };
  const onScroll = () => {
    setScrollY(window.scrollY);
    if (settling === undefined) container?.classList.add("is-scrolling");
    else clearTimeout(settling);
    settling = setTimeout(settled, SETTLE_MS);
  };
  onMount(() => {
    measure();
    const observer = new ResizeObserver(measure);
    if (container) observer.observe(container);
    // What sits above the grid (filters that wrap, a notice) moves it down without resizing it.
    const above = container?.parentElement;
    if (above) observer.observe(above);
    window.addEventListener("resize", measure);
    window.addEventListener("scroll", onScroll, { passive: true });
    onCleanup(() => {
      observer.disconnect();
      window.removeEventListener("resize", measure);
      window.removeEventListener("scroll", onScroll);
      clearTimeout(settling);
    });
  });

  createEffect(() => {
    if (width() === 0 || !props.hasMore || props.loading) return;
    const prefetchRows = Math.ceil((PREFETCH_SCREENS * viewportHeight()) / rowHeight());
    if (range().end >= rowCount() - prefetchRows) props.onEndReached();
  });

  // The items themselves (not wrappers), so a tile keeps its DOM when pages are appended; as
  // stored, not through a store's proxies (a tile reads its item once), which would wrap each item
  // and every object in it as a row first shows it. The length is read through the store, so a
  // row changes with any append, removal or insertion.
  const rowItems = (row: number) => {
    const count = props.items.length;
    return unwrap(props.items).slice(row * columns(), Math.min(count, (row + 1) * columns()));
  };

  return (
    <div
      ref={container}
      class="vgrid"
      role="list"
      aria-label={props.label}
      data-count={props.items.length}
      data-more={props.hasMore}
      style={{
        height: `${Math.max(0, rowCount() * rowHeight() - props.gap)}px`,
        "--vgrid-columns": columns(),
        "--vgrid-tile": `${tileWidth()}px`,
        "--vgrid-gap": `${props.gap}px`,
      }}
    >
      <For each={rows()}>
        {(row) => (
          <div class="vgrid__row" role="presentation" style={{ transform: `translateY(${row * rowHeight()}px)` }}>
            <For each={rowItems(row)}>
              {(item, column) => (
                <div
                  class="vgrid__cell"
                  role="listitem"
                  aria-posinset={row * columns() + column() + 1}
                  aria-setsize={props.items.length}
                >
                  {props.children(item, tileWidth())}
                </div>
              )}
            </For>
          </div>
        )}
      </For>
    </div>
  );
}
