import "./toast.css";
import { createRoot, createSignal, For, type JSX, onCleanup, onMount, Show } from "solid-js";
import { errorMessage } from "../api/errors";
import { announce } from "./announcer";

export type ToastAction = { label: string; run: () => Promise<void> | void };
export type ToastOptions = {
  message: string;
  /** "Undo", for example. Running it closes the toast; a failure is shown in its place. */
  action?: ToastAction;
  /** How long it stays, in ms; longer with an action, so there is time to reach it. */
  duration?: number;
};
type Toast = ToastOptions & { id: number };

/** At most this many at once: a burst of deletions keeps the newest few within reach. */
const MAX_TOASTS = 3;

const store = createRoot(() => {
  const [toasts, setToasts] = createSignal<Toast[]>([]);
  let nextId = 1;
  const dismiss = (id: number) => setToasts((list) => list.filter((t) => t.id !== id));
  const show = (options: ToastOptions): number => {
    const id = nextId++;
    setToasts((list) => [...list, { ...options, id }].slice(-MAX_TOASTS));
    announce(options.action ? `${options.message}. ${options.action.label} is available.` : options.message);
    return id;
  };
  return { toasts, show, dismiss };
});

/**
 * A short message at the bottom of the screen, above the navigation, within thumb reach:
 * `showToast({ message: "Moved to the trash", action: { label: "Undo", run: restore } })`.
 */
export const showToast = store.show;
export const dismissToast = store.dismiss;

/** The region the toasts appear in; once, at the root of the app. */
export function Toasts(): JSX.Element {
  return (
    <section class="toasts" aria-label="Notifications">
      <For each={store.toasts()}>{(toast) => <ToastView toast={toast} />}</For>
    </section>
  );
}

function ToastView(props: { toast: Toast }): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const [failure, setFailure] = createSignal<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const duration = () => props.toast.duration ?? (props.toast.action ? 8_000 : 4_000);
  const close = () => store.dismiss(props.toast.id);
  // Paused while pointed at or focused, so the action doesn't vanish under a finger or a keyboard.
  const pause = () => timer !== undefined && clearTimeout(timer);
  const resume = () => {
    pause();
    timer = setTimeout(close, duration());
  };
  onMount(resume);
  onCleanup(pause);

  const run = async (action: ToastAction) => {
    if (busy()) return;
    setBusy(true);
    setFailure(undefined);
    try {
      await action.run();
      close();
    } catch (error) {
      setFailure(errorMessage(error));
      resume();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div
      class="toast"
      data-testid="toast"
      role="group"
      aria-label="Notification"
      onPointerEnter={pause}
      onPointerLeave={resume}
      onFocusIn={pause}
      onFocusOut={resume}
    >
      <p class="toast__message">{failure() ?? props.toast.message}</p>
      <Show when={props.toast.action}>
        {(action) => (
          <button
            type="button"
            class="button button--small toast__action"
            aria-busy={busy()}
            onClick={() => void run(action())}
          >
            {action().label}
          </button>
        )}
      </Show>
      <button type="button" class="button button--ghost button--small toast__close" onClick={close}>
        <span class="visually-hidden">Dismiss</span>
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}
