import { credentialsSchema } from "@contract/api";
import { A, Navigate, useSearchParams } from "@solidjs/router";
import { createSignal, type JSX, Show } from "solid-js";
import { ApiError, errorMessage } from "../api/errors";
import { describedBy, FieldError, FormError, issuesByPath } from "../ui/fields";
import { Logo } from "../ui/icons";
import { usePageTitle } from "../ui/title";
import { safeNext, useSession } from "./session";

type Mode = "sign-in" | "sign-up";

const copy = {
  "sign-in": {
    title: "Sign in",
    heading: "Welcome back",
    lead: "Sign in to pick up where you left off.",
    submit: "Sign in",
    switchText: "New to Image Studio?",
    switchLink: "Create an account",
    switchPath: "/sign-up",
    passwordAutocomplete: "current-password",
  },
  "sign-up": {
    title: "Create an account",
    heading: "Create your studio",
    lead: "Everything you make is kept, on every device you use.",
    submit: "Sign up",
    switchText: "Already have an account?",
    switchLink: "Sign in instead",
    switchPath: "/sign-in",
    passwordAutocomplete: "new-password",
  },
} as const;

export const SignInPage = () => <AuthPage mode="sign-in" />;
export const SignUpPage = () => <AuthPage mode="sign-up" />;

function AuthPage(props: { mode: Mode }): JSX.Element {
  const session = useSession();
  const [params] = useSearchParams<{ next: string }>();
  const text = () => copy[props.mode];
  usePageTitle(() => text().title);

  const [email, setEmail] = createSignal("");
  const [password, setPassword] = createSignal("");
  const [fieldErrors, setFieldErrors] = createSignal<Record<string, string>>({});
  const [formError, setFormError] = createSignal<string>();
  const [pending, setPending] = createSignal(false);

  const next = () => safeNext(params.next);
  const switchHref = () =>
    params.next ? `${text().switchPath}?next=${encodeURIComponent(next())}` : text().switchPath;
  const signedIn = () => session.user.state === "ready" && session.user() !== null;

  let emailInput: HTMLInputElement | undefined;
  let passwordInput: HTMLInputElement | undefined;

  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (pending()) return;
    setFormError(undefined);

    const parsed = credentialsSchema.safeParse({ email: email(), password: password() });
    if (!parsed.success) {
      const errors = issuesByPath(parsed.error.issues);
      if (errors.email && !email().trim()) errors.email = "Enter your email address";
      if (errors.password && !password()) errors.password = "Enter your password";
      setFieldErrors(errors);
      (errors.email ? emailInput : passwordInput)?.focus();
      return;
    }
    setFieldErrors({});
    setPending(true);
    try {
      // On success the session resource updates and the <Navigate> below takes the person onward.
      await (props.mode === "sign-in" ? session.signIn(parsed.data) : session.signUp(parsed.data));
    } catch (error) {
      if (error instanceof ApiError) {
        const errors: Record<string, string> = {};
        const emailError = error.fieldError("email") ?? (error.status === 409 ? error.userMessage : undefined);
        const passwordError = error.fieldError("password");
        if (emailError) errors.email = emailError;
        if (passwordError) errors.password = passwordError;
        setFieldErrors(errors);
        if (!emailError && !passwordError) {
          setFormError(
            error.status === 401 && props.mode === "sign-in"
              ? error.detail || "That email and password don't match an account."
              : error.userMessage,
          );
        }
        if (emailError) emailInput?.focus();
        else if (passwordError) passwordInput?.focus();
      } else {
        setFormError(errorMessage(error));
      }
    } finally {
      setPending(false);
    }
  };

  return (
    <Show when={!signedIn()} fallback={<Navigate href={next()} />}>
      <main id="main" class="auth" tabindex="-1">
        <div class="auth__card">
          <div class="auth__brand">
            <Logo class="logo logo--lg" />
            <span>Image Studio</span>
          </div>
          <h1 class="auth__heading">{text().heading}</h1>
          <p class="auth__lead">{text().lead}</p>

          <form class="form" novalidate onSubmit={onSubmit}>
            <FormError message={formError()} />

            <div class="field">
              <label class="field__label" for="auth-email">
                Email
              </label>
              <input
                ref={emailInput}
                id="auth-email"
                class="input"
                type="email"
                name="email"
                autocomplete="email"
                inputmode="email"
                autocapitalize="none"
                spellcheck={false}
                required
                value={email()}
                onInput={(e) => setEmail(e.currentTarget.value)}
                aria-invalid={fieldErrors().email ? "true" : undefined}
                aria-describedby={describedBy(fieldErrors().email && "auth-email-error")}
              />
              <FieldError id="auth-email-error" message={fieldErrors().email} />
            </div>

            <div class="field">
              <label class="field__label" for="auth-password">
                Password
              </label>
              <input
                ref={passwordInput}
                id="auth-password"
                class="input"
                type="password"
                name="password"
                autocomplete={text().passwordAutocomplete}
                required
                minlength={props.mode === "sign-up" ? 8 : undefined}
                value={password()}
                onInput={(e) => setPassword(e.currentTarget.value)}
                aria-invalid={fieldErrors().password ? "true" : undefined}
                aria-describedby={describedBy(
                  props.mode === "sign-up" && "auth-password-hint",
                  fieldErrors().password && "auth-password-error",
                )}
              />
              <Show when={props.mode === "sign-up"}>
                <p class="field__hint" id="auth-password-hint">
                  At least 8 characters.
                </p>
              </Show>
              <FieldError id="auth-password-error" message={fieldErrors().password} />
            </div>

            <button type="submit" class="button button--primary button--block" aria-busy={pending()}>
              <Show when={pending()}>
                <span class="busy-dot" aria-hidden="true" />
              </Show>
              {text().submit}
            </button>
          </form>

          <p class="auth__switch">
            {text().switchText} <A href={switchHref()}>{text().switchLink}</A>
          </p>
        </div>
      </main>
    </Show>
  );
}
