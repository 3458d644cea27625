import { type JSX, Show } from "solid-js";

/** The message under a field; its id goes in the control's `aria-describedby`. */
export function FieldError(props: { id: string; message: string | undefined }): JSX.Element {
  return (
    <Show when={props.message}>
      <p class="field__error" id={props.id}>
        {props.message}
      </p>
    </Show>
  );
}

/** A form-level failure (network, rate limit, anything not tied to one field). */
export function FormError(props: { message: string | undefined }): JSX.Element {
  return (
    <Show when={props.message}>
      <div class="notice notice--error" role="alert">
        {props.message}
      </div>
    </Show>
  );
}

/** `aria-describedby` from the ids that are currently shown. */
export const describedBy = (...ids: (string | false | undefined | null)[]): string | undefined =>
  ids.filter((id): id is string => typeof id === "string" && id.length > 0).join(" ") || undefined;

/** Zod issues → `{ "params.width": "..." }`, first message per path. */
export function issuesByPath(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) {
    const key = issue.path.map(String).join(".");
    if (!(key in out)) out[key] = issue.message;
  }
  return out;
}
