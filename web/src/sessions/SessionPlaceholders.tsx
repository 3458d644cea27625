import { A } from "@solidjs/router";
import type { JSX } from "solid-js";

/** A session that doesn't exist, or no longer does, or isn't ours. */
export function SessionMissing(): JSX.Element {
  return (
    <main id="main" class="page page--narrow" tabindex="-1">
      <div class="empty">
        <h1 class="empty__title">Session not found</h1>
        <p class="empty__text">It may have been deleted, or it belongs to another account.</p>
        <A class="button button--primary" href="/sessions">
          Back to sessions
        </A>
      </div>
    </main>
  );
}

/** The session page's shape while it loads. */
export function SessionSkeleton(): JSX.Element {
  return (
    <main id="main" class="page session" tabindex="-1" aria-busy="true">
      <span class="visually-hidden">Loading session…</span>
      <div class="session-head" aria-hidden="true">
        <span class="skeleton skeleton--title" />
        <span class="skeleton skeleton--line skeleton--short" />
      </div>
      <div class="workspace" aria-hidden="true">
        <div class="workspace__main">
          <span class="skeleton viewer__skeleton" />
        </div>
      </div>
    </main>
  );
}
