import "./manage.css";
import type { Session } from "@contract/api";
import { createSignal, type JSX, onCleanup, Show } from "solid-js";
import { errorMessage } from "../api/errors";
import { sessionExportUrl } from "../api/sessions";
import { ConfirmButton } from "../ui/ConfirmButton";
import { CopyIcon, DownloadIcon, MoreIcon, PencilIcon, TrashIcon } from "../ui/icons";

export type SessionMenuProps = {
  session: Pick<Session, "id" | "title">;
  onRename: () => void;
  onClone: () => Promise<void>;
  /** Deletes into the trash (the caller shows Undo). */
  onDelete: () => Promise<void>;
  class?: string;
};

/**
 * A session's actions behind one "⋯" button: rename, clone, export (JSON, or a zip with the
 * images) and delete, which asks first. Escape or a tap elsewhere closes it.
 */
export function SessionMenu(props: SessionMenuProps): JSX.Element {
  const [open, setOpen] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  let root: HTMLDivElement | undefined;
  let toggle: HTMLButtonElement | undefined;
  const menuId = `session-menu-${props.session.id}`;

  const close = (refocus = false) => {
    setOpen(false);
    setError(undefined);
    if (refocus) toggle?.focus();
  };
  const onOutside = (event: PointerEvent) => {
    if (root && !root.contains(event.target as Node)) close();
  };
  document.addEventListener("pointerdown", onOutside);
  onCleanup(() => document.removeEventListener("pointerdown", onOutside));

  const clone = async () => {
    if (busy()) return;
    setBusy(true);
    try {
      await props.onClone();
      close();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const title = () => props.session.title || "Untitled session";

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: Escape closes the menu from any of its items.
    <div
      ref={root}
      class={`menu ${props.class ?? ""}`}
      onKeyDown={(event) => {
        if (event.key === "Escape" && open()) {
          event.stopPropagation();
          close(true);
        }
      }}
    >
      <button
        ref={toggle}
        type="button"
        class="icon-button menu__toggle"
        aria-label={`Actions for ${title()}`}
        aria-expanded={open()}
        aria-controls={menuId}
        data-testid="session-menu"
        onClick={() => setOpen(!open())}
      >
        <MoreIcon />
      </button>
      <Show when={open()}>
        <div id={menuId} class="menu__panel" role="group" aria-label={`Actions for ${title()}`}>
          <button
            type="button"
            class="menu__item"
            onClick={() => {
              close();
              props.onRename();
            }}
          >
            <PencilIcon />
            Rename
          </button>
          <button type="button" class="menu__item" aria-busy={busy()} onClick={() => void clone()}>
            <CopyIcon />
            Clone
          </button>
          <a class="menu__item" href={sessionExportUrl(props.session.id, "json")} download="" onClick={() => close()}>
            <DownloadIcon />
            Export JSON
          </a>
          <a class="menu__item" href={sessionExportUrl(props.session.id, "zip")} download="" onClick={() => close()}>
            <DownloadIcon />
            Export with images (zip)
          </a>
          <ConfirmButton
            label="Delete"
            ariaLabel={`Delete ${title()}`}
            question="Move this session and its images to the trash?"
            icon={<TrashIcon />}
            class="menu__confirm"
            onConfirm={async () => {
              await props.onDelete();
              close();
            }}
          />
          <Show when={error()}>
            <p class="field__error" role="alert">
              {error()}
            </p>
          </Show>
        </div>
      </Show>
    </div>
  );
}
