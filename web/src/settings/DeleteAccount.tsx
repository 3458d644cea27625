import { createSignal, type JSX } from "solid-js";
import { ApiError, errorMessage } from "../api/errors";
import { useSession } from "../auth";
import { describedBy, FieldError, FormError } from "../ui/fields";
import { TrashIcon } from "../ui/icons";

/**
 * Deleting the account, confirmed with the password: every session, image, reference and token
 * goes, at once and for good. Afterwards the landing page says it is done.
 */
export function DeleteAccount(): JSX.Element {
  const session = useSession();
  const [password, setPassword] = createSignal("");
  const [passwordError, setPasswordError] = createSignal<string>();
  const [formError, setFormError] = createSignal<string>();
  const [pending, setPending] = createSignal(false);
  let passwordInput: HTMLInputElement | undefined;

  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (pending()) return;
    setFormError(undefined);
    if (!password()) {
      setPasswordError("Enter your password to confirm");
      passwordInput?.focus();
      return;
    }
    setPasswordError(undefined);
    setPending(true);
    try {
      // On success the session ends and the person is taken to the landing page.
      await session.deleteAccount(password());
    } catch (error) {
      const fieldError = error instanceof ApiError ? error.fieldError("password") : undefined;
      if (fieldError) {
        setPasswordError(error instanceof ApiError && error.status === 403 ? "That password is not right" : fieldError);
        passwordInput?.focus();
      } else {
        setFormError(errorMessage(error));
      }
      setPending(false);
    }
  };

  return (
    <section class="settings__section settings__danger" aria-labelledby="settings-delete">
      <h2 id="settings-delete" class="settings__title">
        Delete account
      </h2>
      <p class="settings__text">
        This deletes your account and everything in it: every session, image, reference photo and API token. It cannot
        be undone.
      </p>
      <form class="form" novalidate onSubmit={onSubmit}>
        <FormError message={formError()} />
        <div class="field">
          <label class="field__label" for="delete-password">
            Your password
          </label>
          <input
            ref={passwordInput}
            id="delete-password"
            class="input"
            type="password"
            name="password"
            autocomplete="current-password"
            required
            value={password()}
            onInput={(e) => setPassword(e.currentTarget.value)}
            aria-invalid={passwordError() ? "true" : undefined}
            aria-describedby={describedBy(passwordError() && "delete-password-error")}
          />
          <FieldError id="delete-password-error" message={passwordError()} />
        </div>
        <button type="submit" class="button button--danger-solid" aria-busy={pending()}>
          <TrashIcon />
          <span>Delete my account</span>
        </button>
      </form>
    </section>
  );
}
