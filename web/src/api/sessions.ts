/** Sessions, the generations started in them, and the address of their live channel. */
import type {
  CreateGenerationRequest,
  CreateSessionRequest,
  Generation,
  GenerationPage,
  GenerationStatus,
  ListSessionsQuery,
  Session,
  SessionDetail,
  SessionPage,
} from "@contract/api";
import type { ImportResult } from "@contract/transfer";
import { api, type CallOptions, callInit, done, idParam, readJson } from "./client";
import { apiQuery } from "./query";

/** What a list of sessions asks for (dates as `2026-03-01`); the server's defaults fill in the rest. */
export type SessionListQuery = {
  limit: number;
  cursor?: string;
  q?: string;
  sort?: ListSessionsQuery["sort"];
  order?: ListSessionsQuery["order"];
  model?: string;
  status?: GenerationStatus;
  from?: string;
  to?: string;
};

export async function listSessions(listQuery: SessionListQuery, options?: CallOptions): Promise<SessionPage> {
  const { limit, q, sort, order, cursor, model, status, from, to } = listQuery;
  const response = await api.sessions.$get(
    {
      query: {
        limit: String(limit),
        q: q || undefined,
        sort,
        order,
        cursor,
        model: model || undefined,
        status,
        from: from || undefined,
        to: to || undefined,
      },
    },
    callInit(options),
  );
  return readJson(response);
}

/** A page of sessions, for a route to preload and its page to load. */
export const sessionListQuery = apiQuery(listSessions, "sessionList");

/** How many of a session's newest generations come with it, and in each older page. */
export const SESSION_GENERATIONS_PAGE = 50;

/**
 * A session with its newest generations (`generationsCursor` for older ones), and the ancestry of
 * `lineageOf` (the selected image's generation) even when it is older than that.
 */
export async function fetchSession(id: string, lineageOf?: string, options?: CallOptions): Promise<SessionDetail> {
  const query = { limit: String(SESSION_GENERATIONS_PAGE), lineageOf: lineageOf || undefined };
  return readJson(await api.sessions[":id"].$get({ param: idParam(id), query }, callInit(options)));
}

/** Older generations of a session, newest first. */
export async function fetchSessionGenerations(
  id: string,
  cursor: string,
  options?: CallOptions,
): Promise<GenerationPage> {
  const query = { limit: String(SESSION_GENERATIONS_PAGE), cursor };
  return readJson(await api.sessions[":id"].generations.$get({ param: idParam(id), query }, callInit(options)));
}

/** One session with its generations, for a route to preload and its page to load. */
export const sessionDetailQuery = apiQuery(fetchSession, "sessionDetail");

export async function createSession(request: CreateSessionRequest): Promise<Session> {
  return readJson(await api.sessions.$post({ json: request }));
}

export async function renameSession(id: string, title: string): Promise<Session> {
  return readJson(await api.sessions[":id"].$patch({ param: idParam(id), json: { title } }));
}

/** To the trash, with its generations; `restoreFromTrash(id)` (trash.ts) brings it back. */
export async function deleteSession(id: string): Promise<void> {
  await done(await api.sessions[":id"].$delete({ param: idParam(id) }));
}

/** A new session with the same generation settings and lineage, no outputs. */
export async function cloneSession(id: string, title?: string): Promise<Session> {
  return readJson(await api.sessions[":id"].clone.$post({ param: idParam(id), json: title ? { title } : {} }));
}

/** Where the export downloads from: the JSON document, or a zip with the images' bytes. */
export function sessionExportUrl(id: string, format: "json" | "zip"): string {
  const url = api.sessions[":id"].export.$url({ param: idParam(id), query: { format } });
  return `${url.pathname}${url.search}`;
}

/**
 * Recreates an exported session (a `.json` document or a `.zip`) for the signed-in person. A
 * refused document is an `ApiError` whose `errors[].path` names the field at fault.
 */
export async function importSession(file: Blob): Promise<ImportResult> {
  const zip = file.type === "application/zip" || file.type === "application/x-zip-compressed" || isZipName(file);
  const init = { body: file, headers: { "Content-Type": zip ? "application/zip" : "application/json" } };
  return readJson(await api.sessions.import.$post({}, { init }));
}

const isZipName = (file: Blob): boolean => file instanceof File && file.name.toLowerCase().endsWith(".zip");

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
