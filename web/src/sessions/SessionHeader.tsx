import type { Session } from "@contract/api";
import { A } from "@solidjs/router";
import { createSignal, type JSX, Show } from "solid-js";
import { formatCost, formatRelative, modelName, plural } from "../lib/format";
import { ChevronLeftIcon, PencilIcon } from "../ui/icons";
import type { LiveSession } from "./liveSession";
import { SessionMenu } from "./SessionMenu";
import { SessionTitleEditor } from "./SessionTitle";

const CONNECTION_LABEL = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  closed: "Offline",
} as const;

export type SessionHeaderProps = {
  live: LiveSession;
  /** The title was saved (the live channel confirms it too). */
  onRenamed: (session: Session) => void;
  onClone: () => Promise<void>;
  onDelete: () => Promise<void>;
};

/** The session's title (renamed in place), its actions, whether updates arrive live, and what it holds. */
export function SessionHeader(props: SessionHeaderProps): JSX.Element {
  const session = () => props.live.state.session;
  const connection = () => props.live.state.connection;
  // With nothing older left to fetch, every generation is here: count them as they come and go. A
  // session opened a page at a time counts what the server holds, updated as generations end or go.
  const generationCount = () =>
    props.live.state.olderCursor === null
      ? props.live.state.generations.length
      : Math.max(session().generationCount, props.live.state.generations.length);
  const [renaming, setRenaming] = createSignal(false);
  return (
    <header class="session-head">
      <A class="back-link" href="/sessions">
        <ChevronLeftIcon />
        Sessions
      </A>
      <div class="session-head__row">
        <Show
          when={!renaming()}
          fallback={
            <SessionTitleEditor
              session={session()}
              id="session-title"
              class="session-head__editor"
              onSaved={props.onRenamed}
              onDone={() => setRenaming(false)}
            />
          }
        >
          <div class="session-head__title-row">
            <h1 class="session-head__title">{session().title || "Untitled session"}</h1>
            <button
              type="button"
              class="icon-button session-head__rename"
              aria-label="Rename session"
              onClick={() => setRenaming(true)}
            >
              <PencilIcon />
            </button>
            <SessionMenu
              session={session()}
              onRename={() => setRenaming(true)}
              onClone={props.onClone}
              onDelete={props.onDelete}
            />
          </div>
        </Show>
        <span
          class={`connection connection--${connection()}`}
          title={connection() === "open" ? "Updates arrive live" : undefined}
        >
          <span class="connection__dot" aria-hidden="true" />
          {CONNECTION_LABEL[connection()]}
        </span>
      </div>
      <p class="session-head__meta">
        {plural(generationCount(), "generation")}
        <Show when={session().model}>
          {(model) => (
            <>
              <span aria-hidden="true"> · </span>
              {modelName(model())}
            </>
          )}
        </Show>
        <Show when={session().totalCost > 0}>
          <span aria-hidden="true"> · </span>
          <span data-testid="session-cost">{formatCost(session().totalCost)} spent</span>
        </Show>
        <span aria-hidden="true"> · </span>
        updated {formatRelative(session().lastActivityAt)}
      </p>
      <Show when={connection() === "reconnecting"}>
        <p class="session-head__notice">
          Connection lost. New results will appear when it's back.{" "}
          <button type="button" class="button button--link" onClick={() => props.live.retryConnection()}>
            Reconnect now
          </button>
        </p>
      </Show>
      <Show when={props.live.state.serverError}>{(detail) => <p class="field__error">{detail()}</p>}</Show>
    </header>
  );
}
