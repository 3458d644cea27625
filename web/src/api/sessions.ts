/** Sessions, the generations started in them, and the address of their live channel. */
import type {
  CreateGenerationRequest,
  CreateSessionRequest,
  Generation,
  ListSessionsQuery,
  Session,
  SessionDetail,
  SessionPage,
} from "@contract/api";
import { api, type CallOptions, callInit, idParam, readJson } from "./client";
import { apiQuery } from "./query";

/** What a list of sessions asks for; the server's defaults fill in what is left out. */
export type SessionListQuery = Pick<ListSessionsQuery, "limit"> & Partial<Omit<ListSessionsQuery, "limit">>;

export async function listSessions(listQuery: SessionListQuery, options?: CallOptions): Promise<SessionPage> {
  const { limit, q, sort, order, cursor } = listQuery;
  const response = await api.sessions.$get(
    { query: { limit: String(limit), q: q || undefined, sort, order, cursor } },
    callInit(options),
  );
  return readJson(response);
}

/** A page of sessions, for a route to preload and its page to load. */
export const sessionListQuery = apiQuery(listSessions, "sessionList");

export async function fetchSession(id: string, options?: CallOptions): Promise<SessionDetail> {
  return readJson(await api.sessions[":id"].$get({ param: idParam(id), query: {} }, callInit(options)));
}

/** One session with its generations, for a route to preload and its page to load. */
export const sessionDetailQuery = apiQuery(fetchSession, "sessionDetail");

export async function createSession(request: CreateSessionRequest): Promise<Session> {
  return readJson(await api.sessions.$post({ json: request }));
}

export async function renameSession(id: string, title: string): Promise<Session> {
  return readJson(await api.sessions[":id"].$patch({ param: idParam(id), json: { title } }));
}

/** Queues a generation in the session (202): its progress arrives over the live channel. */
export async function startGeneration(sessionId: string, request: CreateGenerationRequest): Promise<Generation> {
  return readJson(await api.sessions[":id"].generations.$post({ param: idParam(sessionId), json: request }));
}

/** The session's live WebSocket: same host, `wss:` on https (cookies go along). */
export function liveSessionUrl(sessionId: string): string {
  const url = api.sessions[":id"].live.$url({ param: idParam(sessionId) });
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}
