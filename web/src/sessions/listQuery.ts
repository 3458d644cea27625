/**
 * The preloads of the sessions pages, and what the sessions list shows as the URL says it
 * (`?q=&sort=`), shared by the preload and the page so both ask for the same first page.
 */
import type { SessionSort } from "@contract/api";
import type { RoutePreloadFuncArgs } from "@solidjs/router";
import { type SessionListQuery, sessionDetailQuery, sessionListQuery } from "../api/sessions";

export const SESSION_SORTS: { id: SessionSort; label: string }[] = [
  { id: "updated", label: "Last activity" },
  { id: "created", label: "Newest" },
  { id: "generations", label: "Most generations" },
  { id: "successRate", label: "Success rate" },
];
export const SESSIONS_PAGE_SIZE = 24;

export type SessionsView = { q: string; sort: SessionSort };

type SearchParams = Partial<Record<string, string | string[]>>;

/** The search and sort of `?q=&sort=`; an unknown sort is the default one. */
export function sessionsViewOf(params: SearchParams): SessionsView {
  const q = typeof params.q === "string" ? params.q.trim() : "";
  const sort = SESSION_SORTS.find((option) => option.id === params.sort)?.id ?? "updated";
  return { q, sort };
}

/** The first page of what the URL asks for. */
export const firstSessionsPage = (view: SessionsView): SessionListQuery => ({
  limit: SESSIONS_PAGE_SIZE,
  q: view.q,
  sort: view.sort,
  order: "desc",
});

/** The route's preload: the first page, fetched while the page is on its way. */
export const preloadSessions = (args: RoutePreloadFuncArgs) =>
  sessionListQuery.preload(firstSessionsPage(sessionsViewOf(args.location.query)));

/** The session page's preload: the session, fetched while the page is on its way. */
export const preloadSession = (args: RoutePreloadFuncArgs) => {
  if (args.params.id) sessionDetailQuery.preload(args.params.id);
};
