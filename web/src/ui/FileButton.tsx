import type { JSX } from "solid-js";

export type FileButtonProps = {
  /** The accessible name of the file input ("Add reference images"). */
  label: string;
  /** The visible text ("Add"); the label starts with it or says the same. */
  text: string;
  icon?: JSX.Element;
  accept: string;
  multiple?: boolean;
  /** Opens the camera on phones. */
  capture?: "environment" | "user";
  disabled?: boolean;
  class?: string;
  onFiles: (files: File[]) => void;
};

/**
 * A file input that looks like a button. The input itself stays in the page (visually hidden, still
 * focusable and labelled), so keyboards, screen readers and browser tests reach it directly.
 */
export function FileButton(props: FileButtonProps): JSX.Element {
  return (
    <label
      class={`button filebutton ${props.class ?? "button--ghost button--small"}`}
      classList={{ "is-disabled": Boolean(props.disabled) }}
    >
      <input
        type="file"
        class="filebutton__input"
        accept={props.accept}
        multiple={props.multiple}
        capture={props.capture}
        disabled={props.disabled}
        aria-label={props.label}
        onChange={(event) => {
          const input = event.currentTarget;
          const files = input.files ? Array.from(input.files) : [];
          // Clear, so picking the same file again still fires `change`.
          input.value = "";
          if (files.length > 0) props.onFiles(files);
        }}
      />
      {props.icon}
      <span>{props.text}</span>
    </label>
  );
}
