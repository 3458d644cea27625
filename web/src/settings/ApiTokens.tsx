import type { ApiToken, CreatedApiToken } from "@contract/api";
import { createResource, createSignal, For, type JSX, Show } from "solid-js";
import { ApiError, errorMessage } from "../api/errors";
import { createToken, listTokens, revokeToken } from "../api/tokens";
import { formatRelative } from "../lib/format";
import { ConfirmButton } from "../ui/ConfirmButton";
import { describedBy, FieldError, FormError } from "../ui/fields";
import { CopyIcon, TrashIcon } from "../ui/icons";

/**
 * API tokens let scripts use the API as this account (`Authorization: Bearer …`). A new token's
 * secret is shown once, right after it is made; afterwards only its name and dates are known.
 */
export function ApiTokens(): JSX.Element {
  const [tokens, { refetch }] = createResource(listTokens);
  const [name, setName] = createSignal("");
  const [nameError, setNameError] = createSignal<string>();
  const [formError, setFormError] = createSignal<string>();
  const [pending, setPending] = createSignal(false);
  const [created, setCreated] = createSignal<CreatedApiToken>();
  const [copied, setCopied] = createSignal(false);
  let nameInput: HTMLInputElement | undefined;

  const onCreate = async (event: SubmitEvent) => {
    event.preventDefault();
    if (pending()) return;
    setFormError(undefined);
    if (!name().trim()) {
      setNameError("Name the token after what will use it");
      nameInput?.focus();
      return;
    }
    setNameError(undefined);
    setPending(true);
    try {
      setCreated(await createToken(name().trim()));
      setCopied(false);
      setName("");
      void refetch();
    } catch (error) {
      const fieldError = error instanceof ApiError ? error.fieldError("name") : undefined;
      if (fieldError) setNameError(fieldError);
      else setFormError(errorMessage(error));
    } finally {
      setPending(false);
    }
  };

  const copy = async (secret: string) => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      // No clipboard access (an insecure origin, a refusal): the field is there to select by hand.
      setCopied(false);
    }
  };

  return (
    <section class="settings__section" aria-labelledby="settings-tokens">
      <h2 id="settings-tokens" class="settings__title">
        API tokens
      </h2>
      <p class="settings__text">
        For scripts that use the API as you: send <code>Authorization: Bearer &lt;token&gt;</code>. Revoke a token as
        soon as nothing needs it.
      </p>

      <form class="form settings__form" novalidate onSubmit={onCreate}>
        <FormError message={formError()} />
        <div class="field">
          <label class="field__label" for="token-name">
            Token name
          </label>
          <div class="settings__row">
            <input
              ref={nameInput}
              id="token-name"
              class="input"
              name="name"
              maxlength="100"
              autocomplete="off"
              placeholder="e.g. nightly export"
              value={name()}
              onInput={(e) => setName(e.currentTarget.value)}
              aria-invalid={nameError() ? "true" : undefined}
              aria-describedby={describedBy(nameError() && "token-name-error")}
            />
            <button type="submit" class="button button--primary" aria-busy={pending()}>
              Create token
            </button>
          </div>
          <FieldError id="token-name-error" message={nameError()} />
        </div>
      </form>

      <Show when={created()}>
        {(token) => (
          <div class="notice settings__secret" role="status" data-testid="new-token">
            <p>
              <strong class="settings__wrap">{token().name}</strong> was created. Copy its secret now: it is not shown
              again.
            </p>
            <div class="settings__row">
              <input
                class="input settings__secret-value"
                readOnly
                value={token().token}
                aria-label={`Secret of ${token().name}`}
                onFocus={(e) => e.currentTarget.select()}
              />
              <button type="button" class="button" onClick={() => void copy(token().token)}>
                <CopyIcon />
                <span>{copied() ? "Copied" : "Copy"}</span>
              </button>
            </div>
          </div>
        )}
      </Show>

      <Show
        when={tokens.state !== "errored"}
        fallback={
          <div class="notice notice--error" role="alert">
            <p>{errorMessage(tokens.error)}</p>
            <button type="button" class="button" onClick={() => void refetch()}>
              Try again
            </button>
          </div>
        }
      >
        <Show when={tokens.latest}>
          {(page) => (
            <Show when={page().items.length > 0} fallback={<p class="settings__text">No tokens yet.</p>}>
              <ul class="settings__tokens" aria-label="Your API tokens">
                <For each={page().items}>
                  {(token) => (
                    <TokenRow
                      token={token}
                      onRevoke={async () => {
                        await revokeToken(token.id);
                        if (created()?.id === token.id) setCreated(undefined);
                        await refetch();
                      }}
                    />
                  )}
                </For>
              </ul>
            </Show>
          )}
        </Show>
      </Show>
    </section>
  );
}

function TokenRow(props: { token: ApiToken; onRevoke: () => Promise<void> }): JSX.Element {
  return (
    <li class="settings__token" data-testid="token-row">
      <div class="settings__token-text">
        <span class="settings__token-name settings__wrap">{props.token.name}</span>
        <span class="settings__token-meta">
          Created {formatRelative(props.token.createdAt)} ·{" "}
          {props.token.lastUsedAt ? `last used ${formatRelative(props.token.lastUsedAt)}` : "never used"}
        </span>
      </div>
      <ConfirmButton
        label="Revoke"
        ariaLabel={`Revoke ${props.token.name}`}
        question="Revoke this token? Scripts using it stop working."
        icon={<TrashIcon />}
        onConfirm={props.onRevoke}
      />
    </li>
  );
}
