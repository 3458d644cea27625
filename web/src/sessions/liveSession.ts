/**
 * One open session, kept current over its live WebSocket.
 *
 * The page loads the session first (so a missing session is a plain 404 page) with its newest
 * generations and the selected one's ancestry, then hands the result here. Older generations come
 * a page at a time (`loadOlder`), so a session of 1,000 generations opens as fast as one of 10.
 * From then on the socket is the source of truth for what it covers:
 * - `snapshot` (on every connect and reconnect) replaces the newest page, reconciled by id so
 *   unchanged cards keep their DOM; older generations loaded here stay;
 * - `generation.updated` inserts or replaces one generation;
 * - `generation.progress` moves one progress bar;
 * - `generation.deleted` removes one (late updates for it are ignored);
 * - `session.updated` replaces the session fields.
 * Terminal status changes are announced to screen readers.
 */

import {
  type Generation,
  type GenerationStatus,
  isTerminalStatus,
  type Session,
  type SessionDetail,
} from "@contract/api";
import type { LiveServerMessage } from "@contract/live";
import { onCleanup } from "solid-js";
import { createStore, produce, reconcile } from "solid-js/store";
import { ApiError } from "../api/errors";
import { fetchAncestry } from "../api/generations";
import { fetchSession, fetchSessionGenerations, liveSessionUrl } from "../api/sessions";
import { type LiveConnectionState, openLiveSocket } from "../lib/live";
import { announce } from "../ui/announcer";

export type LiveSessionState = {
  session: Session;
  generations: Generation[];
  connection: LiveConnectionState;
  /** The session was deleted (or is no longer ours) while open. */
  gone: boolean;
  /** The last `error` message the server sent over the socket. */
  serverError: string | null;
  /** Where older generations continue (`loadOlder`); null once every one is here. */
  olderCursor: string | null;
  loadingOlder: boolean;
};

export type LiveSession = {
  state: LiveSessionState;
  /**
   * Adds a generation this tab just created, unless the socket already delivered it; its outcome
   * will be announced.
   */
  insert: (generation: Generation) => void;
  /** Applies an authoritative copy (e.g. the answer of cancel). */
  replace: (generation: Generation) => void;
  /** Removes a deleted generation; `false` if it was already gone. */
  remove: (generationId: string) => boolean;
  /** Applies the session's fields as an answer (a rename) gave them. */
  updateSession: (session: Session) => void;
  /** Brings back a generation restored from the trash. */
  restore: (generation: Generation) => void;
  retryConnection: () => void;
  /** The next page of older generations. */
  loadOlder: () => Promise<void>;
  /** Makes sure the generation's ancestors are here (they may be older than what was loaded). */
  ensureAncestry: (generationId: string) => Promise<void>;
};

export function announceStatus(generation: Generation): void {
  switch (generation.status) {
    case "succeeded":
      announce("Generation succeeded");
      break;
    case "failed":
      announce(`Generation failed: ${generation.error ?? "no reason given"}`);
      break;
    case "canceled":
      announce("Generation canceled");
      break;
    case "timed_out":
      announce(`Generation timed out${generation.error ? `: ${generation.error}` : ""}`);
      break;
    default:
      break;
  }
}

const byCreatedAt = (a: Generation, b: Generation) => a.createdAt.localeCompare(b.createdAt);

function splitDetail(detail: SessionDetail): { session: Session; generations: Generation[]; cursor: string | null } {
  const { generations, generationsCursor, ...session } = detail;
  return { session, generations, cursor: generationsCursor };
}

/** Adds `incoming` to `list` (by id, an incoming copy wins), oldest first. */
function merged(list: readonly Generation[], incoming: readonly Generation[]): Generation[] {
  const byId = new Map(list.map((g) => [g.id, g] as const));
  for (const generation of incoming) byId.set(generation.id, generation);
  return [...byId.values()].sort(byCreatedAt);
}

/**
 * `awaitingOutcome`: ids of generations this tab asked for whose outcome is still to be announced
 * (see `AwaitedOutcomes`); announced ones are taken out, generations inserted here are added.
 */
export function createLiveSession(initial: SessionDetail, awaitingOutcome: Set<string>): LiveSession {
  const start = splitDetail(initial);
  const [state, setState] = createStore<LiveSessionState>({
    session: start.session,
    generations: [...start.generations].sort(byCreatedAt),
    connection: "connecting",
    gone: false,
    serverError: null,
    olderCursor: start.cursor,
    loadingOlder: false,
  });
  const sessionId = start.session.id;

  const announceIfChanged = (previous: GenerationStatus | undefined, next: Generation) => {
    if (!isTerminalStatus(next.status)) return;
    const changed = previous !== undefined && previous !== next.status;
    if (changed || awaitingOutcome.has(next.id)) {
      awaitingOutcome.delete(next.id);
      announceStatus(next);
    }
  };
  for (const generation of start.generations) announceIfChanged(undefined, generation);

  /** Deleted here or elsewhere: a late `generation.updated` must not bring it back. */
  const deleted = new Set<string>();

  const remove = (generationId: string): boolean => {
    deleted.add(generationId);
    awaitingOutcome.delete(generationId);
    if (!state.generations.some((g) => g.id === generationId)) return false;
    setState("generations", (list) => list.filter((g) => g.id !== generationId));
    return true;
  };

  const upsert = (generation: Generation, mode: "replace" | "insert") => {
    if (deleted.has(generation.id)) return;
    const index = state.generations.findIndex((g) => g.id === generation.id);
    if (index === -1) {
      announceIfChanged(undefined, generation);
      setState(
        "generations",
        produce((list) => {
          list.push(generation);
          const last = list[list.length - 2];
          if (last && byCreatedAt(last, generation) > 0) list.sort(byCreatedAt);
        }),
      );
      return;
    }
    if (mode === "insert") return;
    const previous = state.generations[index]?.status;
    setState("generations", index, reconcile(generation));
    announceIfChanged(previous, generation);
  };

  const onMessage = (message: LiveServerMessage) => {
    switch (message.type) {
      case "snapshot": {
        const before = new Map(state.generations.map((g) => [g.id, g.status] as const));
        const newest = [...message.generations].sort(byCreatedAt);
        // The snapshot is the newest page: what is older than its oldest, loaded here, stays.
        const oldest = message.generationsCursor === null ? undefined : newest[0]?.createdAt;
        const older = oldest ? state.generations.filter((g) => g.createdAt < oldest && !deleted.has(g.id)) : [];
        setState("session", reconcile(message.session));
        setState("generations", reconcile(merged(older, newest), { key: "id" }));
        // A complete snapshot leaves nothing older; otherwise the cursor loaded here reaches as far.
        if (message.generationsCursor === null) setState("olderCursor", null);
        setState("serverError", null);
        for (const generation of message.generations) announceIfChanged(before.get(generation.id), generation);
        break;
      }
      case "generation.updated":
        if (message.generation.sessionId === sessionId) upsert(message.generation, "replace");
        break;
      case "generation.progress":
        setState(
          "generations",
          (g) => g.id === message.generationId && !isTerminalStatus(g.status),
          "progress",
          message.progress,
        );
        break;
      case "generation.deleted":
        if (remove(message.generationId)) announce("A generation was deleted");
        break;
      case "session.updated":
        setState("session", reconcile(message.session));
        break;
      case "error":
        console.warn("Live session error:", message.detail);
        setState("serverError", message.detail);
        break;
      case "pong":
        break;
    }
  };

  const socket = openLiveSocket({
    url: liveSessionUrl(sessionId),
    onMessage,
    onStateChange: (connection) => setState("connection", connection),
    // Before reconnecting, make sure the session still exists and we're still signed in: a socket
    // refused with 401/404 looks like any other dropped connection from the browser's side.
    canReconnect: async () => {
      try {
        await fetchSession(sessionId);
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          setState("gone", true);
          return false;
        }
        // 401 sends the person to sign in (the api client's hook); anything else: keep trying.
        return !(error instanceof ApiError && error.status === 401);
      }
    },
  });
  onCleanup(() => socket.close());

  /** Generations fetched apart from the socket: added quietly (their outcome is old news). */
  const addQuietly = (generations: readonly Generation[]) => {
    const fresh = generations.filter((g) => !deleted.has(g.id) && !state.generations.some((o) => o.id === g.id));
    if (fresh.length > 0) setState("generations", (list) => merged(list, fresh));
  };

  const loadOlder = async () => {
    const cursor = state.olderCursor;
    if (!cursor || state.loadingOlder) return;
    setState("loadingOlder", true);
    try {
      const page = await fetchSessionGenerations(sessionId, cursor);
      addQuietly(page.items);
      setState("olderCursor", page.nextCursor);
    } finally {
      setState("loadingOlder", false);
    }
  };

  const ensureAncestry = async (generationId: string) => {
    if (state.olderCursor === null) return;
    const have = new Map(state.generations.map((g) => [g.id, g] as const));
    let current = have.get(generationId);
    while (current?.parentGenerationId && have.has(current.parentGenerationId)) {
      current = have.get(current.parentGenerationId);
    }
    if (!current?.parentGenerationId) return;
    addQuietly((await fetchAncestry(generationId)).items);
  };

  return {
    state,
    insert: (generation) => {
      awaitingOutcome.add(generation.id);
      upsert(generation, "insert");
    },
    replace: (generation) => upsert(generation, "replace"),
    remove,
    updateSession: (session) => setState("session", reconcile(session)),
    restore: (generation) => {
      deleted.delete(generation.id);
      upsert(generation, "replace");
    },
    retryConnection: () => socket.retryNow(),
    loadOlder,
    ensureAncestry,
  };
}
