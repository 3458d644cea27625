import { createSignal, type JSX, Show } from "solid-js";
import { errorMessage } from "../api/errors";

export type ConfirmButtonProps = {
  /** The button's text, e.g. "Delete"; the confirming button says the same. */
  label: string;
  /** A longer accessible name for the first button, e.g. "Delete photo.jpg". */
  ariaLabel?: string;
  /** The question asked before acting: "Delete this generation? Its images are removed." */
  question: string;
  icon?: JSX.Element;
  class?: string;
  onConfirm: () => Promise<void>;
};

/**
 * A destructive action asked twice, in place: the button turns into the question with the action
 * and "Keep". Focus goes to "Keep" (the safe answer); Escape keeps too.
 */
export function ConfirmButton(props: ConfirmButtonProps): JSX.Element {
  const [asking, setAsking] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  let trigger: HTMLButtonElement | undefined;
  let keep: HTMLButtonElement | undefined;

  const ask = () => {
    setError(undefined);
    setAsking(true);
    queueMicrotask(() => keep?.focus());
  };
  const cancel = () => {
    setAsking(false);
    queueMicrotask(() => trigger?.focus());
  };
  const confirm = async () => {
    if (busy()) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
      setAsking(false);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <span class={`confirm ${props.class ?? ""}`} classList={{ "is-asking": asking() }}>
      <Show
        when={asking()}
        fallback={
          <button
            ref={trigger}
            type="button"
            class="button button--ghost button--small button--danger"
            aria-label={props.ariaLabel}
            onClick={ask}
          >
            {props.icon}
            {props.label}
          </button>
        }
      >
        <span
          class="confirm__ask"
          role="group"
          aria-label={props.question}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.stopPropagation();
              cancel();
            }
          }}
        >
          <span class="confirm__question">{props.question}</span>
          <button
            type="button"
            class="button button--small button--danger-solid"
            aria-busy={busy()}
            onClick={() => void confirm()}
          >
            {props.label}
          </button>
          <button ref={keep} type="button" class="button button--ghost button--small" onClick={cancel}>
            Keep
          </button>
        </span>
      </Show>
      <Show when={error()}>
        <span class="field__error confirm__error" role="alert">
          {error()}
        </span>
      </Show>
    </span>
  );
}
