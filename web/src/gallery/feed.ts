/**
 * The gallery's images as pages arrive: the first page when the view changes, the next on demand
 * (infinite scroll), and the local effects of deleting one and of undoing that.
 */
import type { GalleryItem } from "@contract/gallery";
import { createEffect, on, onCleanup } from "solid-js";
import { createStore, produce } from "solid-js/store";
import { errorMessage } from "../api/errors";
import { imageListQuery, listImages } from "../api/images";
import { type GalleryView, imagesQueryOf } from "./view";

export type GalleryFeedState = {
  items: GalleryItem[];
  nextCursor: string | null;
  loading: boolean;
  /** The first page of the current view has arrived. */
  loaded: boolean;
  error: string | null;
};

export type GalleryFeed = {
  state: GalleryFeedState;
  /** Asks for the next page, unless one is on its way or there is none; resolves when it arrived. */
  loadMore: () => Promise<void>;
  retry: () => void;
  /** Takes an image out of the list; returns where it was (-1 when it wasn't there). */
  remove: (id: string) => number;
  /** Puts an image back where it was (after Undo). */
  putBack: (item: GalleryItem, index: number) => void;
};

/**
 * How long a next page may take before it counts as failed: a request that never answers would
 * otherwise leave the end of the list loading for good, with no way to ask again.
 */
const PAGE_TIMEOUT_MS = 20_000;

export function createGalleryFeed(view: () => GalleryView): GalleryFeed {
  const [state, setState] = createStore<GalleryFeedState>({
    items: [],
    nextCursor: null,
    loading: false,
    loaded: false,
    error: null,
  });
  let controller: AbortController | undefined;
  let pending: Promise<void> | undefined;
  /** Counts the loads started, so that only the latest one clears `pending`. */
  let started = 0;

  const load = (cursor: string | undefined): Promise<void> => {
    const current = view();
    controller = new AbortController();
    const signal = controller.signal;
    setState({ loading: true, error: null });
    const timeout = AbortSignal.timeout(PAGE_TIMEOUT_MS);
    const thisLoad = ++started;
    pending = (async () => {
      try {
        // The first page is the one the route preloaded.
        const page = cursor
          ? await listImages(imagesQueryOf(current, cursor), {
              signal: AbortSignal.any([signal, timeout]),
            })
          : await imageListQuery.load(imagesQueryOf(current));
        if (signal.aborted) return;
        setState(
          produce((s) => {
            const known = new Set(s.items.map((item) => item.id));
            for (const item of page.items) if (!known.has(item.id)) s.items.push(item);
            s.nextCursor = page.nextCursor;
            s.loaded = true;
          }),
        );
      } catch (error) {
        if (signal.aborted) return;
        setState("error", timeout.aborted ? "More images took too long to arrive." : errorMessage(error));
      } finally {
        // No longer on its way before the list hears it is done: what it makes ask for the next page
        // then (the grid, still at the end) must not be handed this one instead.
        if (thisLoad === started) pending = undefined;
        if (!signal.aborted) setState("loading", false);
      }
    })();
    return pending;
  };

  createEffect(
    on(
      () => JSON.stringify(view()),
      () => {
        controller?.abort();
        setState({ items: [], nextCursor: null, loaded: false, loading: false, error: null });
        void load(undefined);
      },
    ),
  );
  onCleanup(() => controller?.abort());

  return {
    state,
    loadMore: () => {
      if (pending) return pending;
      if (!state.nextCursor || state.error) return Promise.resolve();
      return load(state.nextCursor);
    },
    retry: () => void load(state.loaded ? (state.nextCursor ?? undefined) : undefined),
    remove: (id) => {
      const index = state.items.findIndex((item) => item.id === id);
      if (index >= 0) setState("items", (items) => items.filter((item) => item.id !== id));
      return index;
    },
    putBack: (item, index) =>
      setState(
        produce((s) => {
          if (s.items.some((other) => other.id === item.id)) return;
          s.items.splice(Math.min(Math.max(0, index), s.items.length), 0, item);
        }),
      ),
  };
}
