import "./settings.css";
import type { JSX } from "solid-js";
import { Show } from "solid-js";
import { useSession } from "../auth";
import { usePageTitle } from "../ui/title";
import { ApiTokens } from "./ApiTokens";
import { DeleteAccount } from "./DeleteAccount";

export function SettingsPage(): JSX.Element {
  const session = useSession();
  usePageTitle(() => "Settings");
  return (
    <main id="main" class="page page--narrow settings" tabindex="-1">
      <div class="page-head">
        <h1 class="page-head__title">Settings</h1>
      </div>
      <section class="settings__section" aria-labelledby="settings-account">
        <h2 id="settings-account" class="settings__title">
          Account
        </h2>
        <Show when={session.user.latest}>
          {(user) => (
            <p class="settings__text">
              Signed in as <strong class="settings__email">{user().email}</strong>
            </p>
          )}
        </Show>
      </section>
      <ApiTokens />
      <DeleteAccount />
    </main>
  );
}
