/**
 * The preloads of the sessions pages, and what the sessions list shows as the URL says it
 * (search, sort and filters), shared by the preload and the page so both ask for the same first page.
 */
import { GENERATION_STATUSES, type GenerationStatus, type SessionSort } from "@contract/api";
import type { RoutePreloadFuncArgs } from "@solidjs/router";
import { type SessionListQuery, sessionDetailQuery, sessionListQuery } from "../api/sessions";

export const SESSION_SORTS: { id: SessionSort; label: string }[] = [
  { id: "updated", label: "Last activity" },
  { id: "created", label: "Newest" },
  { id: "generations", label: "Most generations" },
  { id: "successRate", label: "Success rate" },
];
export const SESSIONS_PAGE_SIZE = 24;

export type SessionsView = {
  q: string;
  sort: SessionSort;
  model?: string;
  status?: GenerationStatus;
  from?: string;
  to?: string;
};

type SearchParams = Partial<Record<string, string | string[]>>;
const one = (value: string | string[] | undefined): string | undefined =>
  typeof value === "string" && value.trim() ? value.trim() : undefined;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `?q=&sort=&model=&status=&from=&to=`; an unknown sort is the default one, an unknown status none. */
export function sessionsViewOf(params: SearchParams): SessionsView {
  const sort = SESSION_SORTS.find((option) => option.id === params.sort)?.id ?? "updated";
  const status = one(params.status);
  const from = one(params.from);
  const to = one(params.to);
  return {
    q: one(params.q) ?? "",
    sort,
    model: one(params.model),
    status: GENERATION_STATUSES.find((s) => s === status),
    from: from && DATE.test(from) ? from : undefined,
    to: to && DATE.test(to) ? to : undefined,
  };
}

export const isSessionsFiltered = (view: SessionsView): boolean =>
  Boolean(view.model || view.status || view.from || view.to);

/** A page of what the URL asks for (the first without a cursor). */
export const sessionsPageOf = (view: SessionsView, cursor?: string): SessionListQuery => ({
  limit: SESSIONS_PAGE_SIZE,
  cursor,
  q: view.q,
  sort: view.sort,
  order: "desc",
  model: view.model,
  status: view.status,
  from: view.from,
  to: view.to,
});

/** The route's preload: the first page, fetched while the page is on its way. */
export const preloadSessions = (args: RoutePreloadFuncArgs) =>
  sessionListQuery.preload(sessionsPageOf(sessionsViewOf(args.location.query)));

/** The session page's preload: the session (with the selected image's lineage), fetched while the page is on its way. */
export const preloadSession = (args: RoutePreloadFuncArgs) => {
  if (args.params.id) sessionDetailQuery.preload(args.params.id, selectedGenerationOf(args.location.query));
};

/** The generation selected in the URL (`?g=`): its ancestry loads with the session. */
export const selectedGenerationOf = (params: SearchParams): string | undefined => one(params.g);
