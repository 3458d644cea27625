import "./session.css";
import { useParams, useSearchParams } from "@solidjs/router";
import { createResource, type JSX, Match, Show, Switch, untrack } from "solid-js";
import { errorMessage, isApiError } from "../api/errors";
import { sessionDetailQuery } from "../api/sessions";
import { usePageTitle } from "../ui/title";
import { LiveSessionView } from "./LiveSessionView";
import { selectedGenerationOf } from "./listQuery";
import { SessionMissing, SessionSkeleton } from "./SessionPlaceholders";

/** `/sessions/:id`. Keyed on the id, so moving to another session starts from a clean slate. */
export function SessionPage(): JSX.Element {
  const params = useParams<{ id: string }>();
  return (
    <Show when={params.id} keyed>
      {(id) => <SessionLoader id={id} />}
    </Show>
  );
}

function SessionLoader(props: { id: string }): JSX.Element {
  const [search] = useSearchParams();
  // The selected generation's lineage comes with the first load, however old it is.
  const lineageOf = untrack(() => selectedGenerationOf(search));
  const [detail, { refetch }] = createResource(
    () => props.id,
    (id) => sessionDetailQuery.load(id, lineageOf),
  );
  const notFound = () => detail.state === "errored" && isApiError(detail.error) && detail.error.status === 404;
  usePageTitle(() =>
    detail.state === "ready" ? detail().title || "Untitled session" : notFound() ? "Not found" : "Session",
  );

  return (
    <Switch fallback={<SessionSkeleton />}>
      <Match when={notFound()}>
        <SessionMissing />
      </Match>
      <Match when={detail.state === "errored"}>
        <main id="main" class="page page--narrow" tabindex="-1">
          <div class="notice notice--error" role="alert">
            <p>{errorMessage(detail.error)}</p>
            <button type="button" class="button" onClick={() => void refetch()}>
              Try again
            </button>
          </div>
        </main>
      </Match>
      <Match when={detail.state === "ready" && detail()} keyed>
        {(initial) => <LiveSessionView initial={initial} />}
      </Match>
    </Switch>
  );
}
