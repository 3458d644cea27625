import {
  type Accessor,
  createEffect,
  createMemo,
  createRenderEffect,
  createRoot,
  createSignal,
  For,
  getOwner,
  type JSX,
  onCleanup,
  onMount,
  Show,
} from "solid-js";
import { unwrap } from "solid-js/store";

export type VirtualGridProps<T> = {
  items: readonly T[];
  /** More items exist past the last one; `onEndReached` asks for them. */
  hasMore: boolean;
  onEndReached: () => void;
  /** Tiles are square, at least this wide (CSS px); columns fill the width. */
  minTileWidth: number;
  gap: number;
  label: string;
  /**
   * A tile, made once per place in the grid and then shown other items as the list scrolls: it
   * reads its item (and `tileWidth`, for `sizes`) through the accessors, so it follows them.
   */
  children: (item: Accessor<T>, tileWidth: Accessor<number>) => JSX.Element;
};

/** Rows rendered beyond the screen, each way: enough for a fast flick, few enough to stay light. */
const OVERSCAN_ROWS = 2;
/** Ask for the next page this many screens before the end, so a quick flick rarely waits. */
const PREFETCH_SCREENS = 3;
/** The list counts as still once no scroll event came for this long. */
const SETTLE_MS = 150;

type RowRange = { first: number; end: number };
const sameRange = (a: RowRange, b: RowRange) => a.first === b.first && a.end === b.end;
const sameRows = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((row, slot) => row === b[slot]);
/** The row a slot shows when it shows none (there are more slots than rows near either end). */
const NO_ROW = -1;

/**
 * Which row each slot of the pool shows: a row already on screen keeps its slot, a row coming in
 * takes the slot of one that went out. A slot not needed keeps the row it had (just off screen):
 * how many rows are in range changes by one as the offset crosses a row's edge, and emptying a
 * slot only to fill it a frame later would make and dispose its tiles every time. Pure in
 * `previous`, so a memo can keep it.
 */
function assignRows(previous: readonly number[], slots: number, rowCount: number, { first, end }: RowRange): number[] {
  const rows = previous.length === slots ? [...previous] : Array.from({ length: slots }, () => NO_ROW);
  const shown = new Set<number>();
  const free: number[] = [];
  for (const [slot, row] of rows.entries()) {
    if (row >= first && row < end && !shown.has(row)) shown.add(row);
    else free.push(slot);
  }
  // Slots whose row is furthest from the range are given away first.
  const distance = (row: number) => (row === NO_ROW ? Number.POSITIVE_INFINITY : row < first ? first - row : row - end);
  free.sort((a, b) => distance(rows[b] ?? NO_ROW) - distance(rows[a] ?? NO_ROW));
  for (let row = first; row < end; row++) {
    if (shown.has(row)) continue;
    const slot = free.shift();
    if (slot === undefined) break;
    rows[slot] = row;
    shown.add(row);
  }
  for (const slot of free) {
    const row = rows[slot] ?? NO_ROW;
    if (row >= rowCount || shown.has(row)) rows[slot] = NO_ROW;
    else shown.add(row);
  }
  return rows;
}

/** Indices (into `positions`) of a longest increasing run of positions: the nodes that need not move. */
function stayingPut(positions: readonly number[]): Set<number> {
  const lengths = positions.map(() => 1);
  const before = positions.map(() => -1);
  let best = -1;
  positions.forEach((position, i) => {
    if (position < 0) return;
    for (let j = 0; j < i; j++) {
      const earlier = positions[j] ?? -1;
      if (earlier >= 0 && earlier < position && (lengths[j] ?? 0) + 1 > (lengths[i] ?? 0)) {
        lengths[i] = (lengths[j] ?? 0) + 1;
        before[i] = j;
      }
    }
    if (best < 0 || (lengths[i] ?? 0) > (lengths[best] ?? 0)) best = i;
  });
  const staying = new Set<number>();
  for (let i = best; i >= 0; i = before[i] ?? -1) staying.add(i);
  return staying;
}

/**
 * Puts `parent`'s children in the order of `wanted`, moving as few as it can (scrolling a row in
 * moves one). `moveBefore` keeps focus, and anything else a node holds, where the browser has it.
 */
function arrange(parent: HTMLElement, wanted: readonly HTMLElement[]): void {
  const at = new Map<Element, number>();
  for (const [index, child] of Array.from(parent.children).entries()) at.set(child, index);
  const staying = stayingPut(wanted.map((node) => at.get(node) ?? -1));
  let next: HTMLElement | null = null;
  for (let i = wanted.length - 1; i >= 0; i--) {
    const node = wanted[i];
    if (!node) continue;
    if (!staying.has(i)) {
      if (node.parentNode === parent && "moveBefore" in parent) parent.moveBefore(node, next);
      else parent.insertBefore(node, next);
    }
    next = node;
  }
}

/**
 * A responsive grid of square tiles in the page's own scroll (so a phone's toolbars collapse as
 * usual), of which only the rows on screen (and a few around) are in the DOM: at 10,000 items it
 * holds as many nodes as at 100.
 *
 * Every row is as tall as a tile, so which rows show is arithmetic on the scroll offset: a scroll
 * event reads `window.scrollY` (no layout) and changes nothing unless a row comes in or goes out.
 * The rows are a fixed pool of slots, made once for the screen's size: a row scrolling in takes
 * the slot of one that went out, and its tiles are shown the new items in place (attributes
 * change; nothing is made, disposed or collected while the list is flung). The slots are kept in
 * reading order in the DOM (the one that changed row is moved), for the keyboard and screen readers.
 */
export function VirtualGrid<T>(props: VirtualGridProps<T>): JSX.Element {
  const owner = getOwner();
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
  const columnIndices = createMemo(() => Array.from({ length: columns() }, (_, column) => column));

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
  // As many slots as rows can be in range at once: a screen's worth, a part row at either edge,
  // and the overscan both ways.
  const slotCount = createMemo(() =>
    width() === 0 ? 0 : Math.ceil(viewportHeight() / rowHeight()) + 2 + 2 * OVERSCAN_ROWS,
  );
  const slotRows = createMemo<readonly number[]>(
    (previous) => assignRows(previous, slotCount(), rowCount(), range()),
    [],
    {
      equals: sameRows,
    },
  );

  /** One slot: a row's node, whose tiles follow the row the slot is given. */
  const Slot = (slot: number) => {
    const row = createMemo(() => slotRows()[slot] ?? NO_ROW);
    return (
      <div
        class="vgrid__row"
        role="presentation"
        hidden={row() === NO_ROW}
        style={{ transform: `translateY(${Math.max(0, row()) * rowHeight()}px)` }}
      >
        <For each={columnIndices()}>
          {(column) => {
            const index = () => row() * columns() + column;
            // As stored, not through the store's proxies (a tile would wrap each item and every
            // object in it as it first shows it); the length is read through the store, so the
            // slot follows any append, removal or insertion.
            const item = createMemo(() => {
              const count = props.items.length;
              return row() === NO_ROW || index() >= count ? undefined : unwrap(props.items)[index()];
            });
            return (
              <div
                class="vgrid__cell"
                role="listitem"
                hidden={item() === undefined}
                aria-posinset={item() === undefined ? undefined : index() + 1}
                aria-setsize={item() === undefined ? undefined : props.items.length}
              >
                <Show when={item()}>{(shown) => props.children(shown, tileWidth)}</Show>
              </div>
            );
          }}
        </For>
      </div>
    );
  };

  // The pool, made again only when the screen's size changes how many rows fit.
  const slots = createMemo(() => {
    const made = Array.from({ length: slotCount() }, (_, slot) =>
      createRoot((dispose) => ({ node: Slot(slot) as HTMLElement, dispose }), owner),
    );
    onCleanup(() => {
      for (const { node, dispose } of made) {
        node.remove();
        dispose();
      }
    });
    return made;
  });

  const container = (
    <div
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
    />
  ) as HTMLDivElement;

  // Slots in reading order (those showing no row last); focus leaves a tile whose slot takes
  // another row, as it would leave a tile taken out of the DOM, rather than stay on another image.
  let shownBefore: readonly number[] = [];
  createRenderEffect(() => {
    const made = slots();
    const rows = slotRows();
    const focused = document.activeElement;
    made.forEach(({ node }, slot) => {
      const was = shownBefore[slot];
      if (was !== undefined && was !== rows[slot] && focused instanceof HTMLElement && node.contains(focused))
        focused.blur();
    });
    shownBefore = rows;
    const order = made
      .map((_, slot) => slot)
      .sort((a, b) => {
        const rowA = rows[a] ?? NO_ROW;
        const rowB = rows[b] ?? NO_ROW;
        return (
          (rowA === NO_ROW ? Number.POSITIVE_INFINITY : rowA) - (rowB === NO_ROW ? Number.POSITIVE_INFINITY : rowB)
        );
      });
    arrange(
      container,
      order.flatMap((slot) => made[slot]?.node ?? []),
    );
  });

  const measure = () => {
    setViewportHeight(window.innerHeight);
    setScrollY(window.scrollY);
    setWidth(container.clientWidth);
    setOffsetTop(container.getBoundingClientRect().top + window.scrollY);
  };
  // `is-scrolling` while the list moves, so that what only matters to a still list (a tile's
  // loading shimmer: an animated layer each) is not made and unmade for every row flung past.
  let settling: ReturnType<typeof setTimeout> | undefined;
  const settled = () => {
    settling = undefined;
    container.classList.remove("is-scrolling");
  };
  const onScroll = () => {
    setScrollY(window.scrollY);
    if (settling === undefined) container.classList.add("is-scrolling");
    else clearTimeout(settling);
    settling = setTimeout(settled, SETTLE_MS);
  };
  onMount(() => {
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(container);
    // What sits above the grid (filters that wrap, a notice) moves it down without resizing it.
    const above = container.parentElement;
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
    if (width() === 0 || !props.hasMore) return;
    const prefetchRows = Math.ceil((PREFETCH_SCREENS * viewportHeight()) / rowHeight());
    if (range().end >= rowCount() - prefetchRows) props.onEndReached();
  });

  return container;
}
