import "./manage.css";
import type { Session } from "@contract/api";
import { createSignal, For, type JSX, Show } from "solid-js";
import { errorMessage, type FieldIssue, isApiError } from "../api/errors";
import { importSession } from "../api/sessions";
import { FileButton } from "../ui/FileButton";
import { UploadIcon } from "../ui/icons";
import { showToast } from "../ui/toast";

/**
 * "Import": a session exported here (JSON, or a zip with its images) becomes a new session of this
 * account. A refused document shows why, each problem with the place in the document at fault.
 */
export function ImportButton(props: { onImported: (session: Session) => void }): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const [failure, setFailure] = createSignal<{ message: string; issues: readonly FieldIssue[] }>();

  const run = async (file: File) => {
    setBusy(true);
    setFailure(undefined);
    try {
      const result = await importSession(file);
      const missing = result.missingAssets.length;
      showToast({
        message:
          missing > 0
            ? `Imported “${result.title}”; ${missing} image${missing === 1 ? " was" : "s were"} not in the file`
            : `Imported “${result.title}”`,
      });
      props.onImported(result);
    } catch (e) {
      setFailure({ message: errorMessage(e), issues: isApiError(e) ? e.errors : [] });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="import">
      <FileButton
        label="Import a session (JSON or zip)"
        text={busy() ? "Importing…" : "Import"}
        icon={<UploadIcon />}
        accept=".json,.zip,application/json,application/zip"
        disabled={busy()}
        class="button--ghost"
        onFiles={(files) => {
          const file = files[0];
          if (file) void run(file);
        }}
      />
      <Show when={failure()}>
        {(f) => (
          <div class="notice notice--error import__error" role="alert" data-testid="import-error">
            <p>The file wasn't imported: {f().message}</p>
            <Show when={f().issues.length > 0}>
              <ul class="import__issues">
                <For each={f().issues.slice(0, 8)}>
                  {(issue) => (
                    <li>
                      <code>{issue.path}</code>: {issue.message}
                    </li>
                  )}
                </For>
              </ul>
            </Show>
            <button type="button" class="button button--small" onClick={() => setFailure(undefined)}>
              Dismiss
            </button>
          </div>
        )}
      </Show>
    </div>
  );
}
