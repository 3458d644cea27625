/**
 * Loaders on Solid Router's `query()`: a route's `preload` starts the request while the page is on
 * its way, and the page takes that same answer when it renders (one request for both). An answer
 * is used once: the next visit (back and forward included) asks the server again, since what a
 * page shows changes while the person is elsewhere. A failed answer is never kept, so "Try again"
 * asks again.
 */
import { query, revalidate } from "@solidjs/router";

export type ApiQuery<Args extends unknown[], T> = {
  /** Starts the request; for a route's `preload`. */
  preload: (...args: Args) => void;
  /** The preloaded answer when there is one (else a new request); for the page. */
  load: (...args: Args) => Promise<T>;
};

export function apiQuery<Args extends unknown[], T>(
  fetcher: (...args: Args) => Promise<T>,
  name: string,
): ApiQuery<Args, T> {
  // `query` keeps the fetcher's signature; its conditional return type can't be resolved for a
  // generic fetcher, so it is stated here.
  const cached = query(fetcher, name) as unknown as ((...args: Args) => Promise<T>) & {
    keyFor: (...args: Args) => string;
  };
  const forget = (args: Args) => void revalidate(cached.keyFor(...args));
  return {
    preload: (...args) => {
      cached(...args).catch(() => forget(args));
    },
    load: (...args) => cached(...args).finally(() => forget(args)),
  };
}
