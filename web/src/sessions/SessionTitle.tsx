import "./manage.css";
import type { Session } from "@contract/api";
import { createSignal, type JSX, Show } from "solid-js";
import { errorMessage, isApiError } from "../api/errors";
import { renameSession } from "../api/sessions";
import { announce } from "../ui/announcer";

export type SessionTitleEditorProps = {
  session: Pick<Session, "id" | "title">;
  /** The input's id and label prefix. */
  id: string;
  class?: string;
  onSaved: (session: Session) => void;
  onDone: () => void;
};

/**
 * The title as a field, in place: Enter or Save renames, Escape or Cancel keeps the old one. Focus
 * goes to the field, its text selected.
 */
export function SessionTitleEditor(props: SessionTitleEditorProps): JSX.Element {
  const [value, setValue] = createSignal(props.session.title);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const errorId = () => `${props.id}-error`;

  const save = async () => {
    const title = value().trim();
    if (!title) return setError("Give the session a title");
    if (title === props.session.title) return props.onDone();
    setBusy(true);
    setError(undefined);
    try {
      const saved = await renameSession(props.session.id, title);
      props.onSaved(saved);
      announce("Session renamed");
      props.onDone();
    } catch (e) {
      setError(isApiError(e) ? (e.fieldError("title") ?? e.userMessage) : errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class={`title-editor ${props.class ?? ""}`}
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <label class="visually-hidden" for={props.id}>
        Session title
      </label>
      <input
        id={props.id}
        ref={(input) => queueMicrotask(() => input.select())}
        class="input title-editor__input"
        value={value()}
        maxLength={200}
        autocomplete="off"
        enterkeyhint="done"
        aria-invalid={error() ? "true" : undefined}
        aria-describedby={error() ? errorId() : undefined}
        onInput={(event) => setValue(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") {
            event.preventDefault();
            event.stopPropagation();
            props.onDone();
          }
        }}
      />
      <div class="title-editor__buttons">
        <button type="submit" class="button button--primary button--small" aria-busy={busy()}>
          Save
        </button>
        <button type="button" class="button button--ghost button--small" onClick={() => props.onDone()}>
          Cancel
        </button>
      </div>
      <Show when={error()}>
        <p class="field__error title-editor__error" id={errorId()} role="alert">
          {error()}
        </p>
      </Show>
    </form>
  );
}
