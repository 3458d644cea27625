import { A } from "@solidjs/router";
import type { JSX } from "solid-js";
import { usePageTitle } from "../ui/title";

export function NotFoundPage(): JSX.Element {
  usePageTitle(() => "Not found");
  return (
    <main id="main" class="page page--narrow" tabindex="-1">
      <div class="empty">
        <h1 class="empty__title">Nothing here</h1>
        <p class="empty__text">This page doesn't exist. Start something new instead.</p>
        <A class="button button--primary" href="/">
          Open the Studio
        </A>
      </div>
    </main>
  );
}
