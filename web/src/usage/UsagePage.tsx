import "./usage.css";
import type { Usage } from "@contract/api";
import { A } from "@solidjs/router";
import { createResource, For, type JSX, Match, Show, Switch } from "solid-js";
import { errorMessage } from "../api/errors";
import { fetchUsage } from "../api/usage";
import { formatAbsolute, formatCost, plural } from "../lib/format";
import { usePageTitle } from "../ui/title";
import { UsageChart } from "./UsageChart";

function Allowance(props: { label: string; used: string; limit: string | null; fraction: number | null }): JSX.Element {
  return (
    <div class="allowance">
      <div class="allowance__head">
        <span class="allowance__label">{props.label}</span>
        <span class="allowance__value">
          {props.used}
          <Show when={props.limit}> of {props.limit}</Show>
        </span>
      </div>
      <Show when={props.fraction !== null}>
        <span class="allowance__bar" aria-hidden="true">
          <span class="allowance__fill" style={{ width: `${Math.min(100, (props.fraction ?? 0) * 100)}%` }} />
        </span>
      </Show>
    </div>
  );
}

/** `/usage`: what was spent in the last 30 days, by day; today's quota; the most expensive sessions. */
export function UsagePage(): JSX.Element {
  usePageTitle(() => "Usage");
  const [usage, { refetch }] = createResource(() => fetchUsage());

  return (
    <main id="main" class="page usage" tabindex="-1">
      <header class="page-head">
        <h1 class="page-head__title">Usage</h1>
      </header>
      <Switch fallback={<div class="skeleton skeleton--block" aria-hidden="true" />}>
        <Match when={usage.error}>
          <div class="notice notice--error" role="alert">
            <p>{errorMessage(usage.error)}</p>
            <button type="button" class="button" onClick={() => void refetch()}>
              Try again
            </button>
          </div>
        </Match>
        <Match when={usage.latest}>{(data) => <UsageView usage={data()} />}</Match>
      </Switch>
    </main>
  );
}

function UsageView(props: { usage: Usage }): JSX.Element {
  const quota = () => props.usage.quota;
  const range = () => {
    const first = props.usage.byDay[0]?.day;
    const last = props.usage.byDay.at(-1)?.day;
    return first && last ? `${first} to ${last}` : "";
  };
  return (
    <div class="usage__grid">
      <section class="usage__card usage__summary" aria-labelledby="usage-period">
        <h2 id="usage-period" class="section-head__title">
          Last {props.usage.byDay.length} days
        </h2>
        <p class="usage__total" data-testid="usage-total">
          {formatCost(props.usage.totalCost)}
        </p>
        <p class="usage__sub">
          {plural(props.usage.generations, "generation")} · {range()} (UTC)
        </p>
      </section>

      <section class="usage__card usage__quota" aria-labelledby="usage-today">
        <h2 id="usage-today" class="section-head__title">
          Today
        </h2>
        <Allowance
          label="Generations"
          used={String(quota().generations.used)}
          limit={quota().generations.limit === null ? null : String(quota().generations.limit)}
          fraction={quota().generations.limit ? quota().generations.used / (quota().generations.limit ?? 1) : null}
        />
        <Allowance
          label="Spent or running"
          used={formatCost(quota().cost.used)}
          limit={quota().cost.limit === null ? null : formatCost(quota().cost.limit ?? 0)}
          fraction={quota().cost.limit ? quota().cost.used / (quota().cost.limit ?? 1) : null}
        />
        <p class="usage__sub">
          <Show when={quota().perMinute}>{(rate) => <>At most {rate()} a minute. </>}</Show>
          Resets {formatAbsolute(quota().resetsAt)}.
        </p>
      </section>

      <section class="usage__card usage__chart" aria-labelledby="usage-chart-heading">
        <div class="section-head">
          <h2 id="usage-chart-heading" class="section-head__title">
            Cost and generations per day
          </h2>
          <span class="usage__legend">
            <span class="usage__key usage__key--cost" aria-hidden="true" /> Cost
            <span class="usage__key usage__key--count" aria-hidden="true" /> Generations
          </span>
        </div>
        <UsageChart days={props.usage.byDay} />
        <details class="usage__table">
          <summary>The numbers, day by day</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Generations</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              <For each={[...props.usage.byDay].reverse()}>
                {(day) => (
                  <tr>
                    <td>{day.day}</td>
                    <td>{day.generations}</td>
                    <td>{formatCost(day.cost)}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </details>
      </section>

      <section class="usage__card usage__top" aria-labelledby="usage-top">
        <h2 id="usage-top" class="section-head__title">
          Most expensive sessions
        </h2>
        <Show
          when={props.usage.topSessions.length > 0}
          fallback={<p class="usage__sub">No session has cost anything yet.</p>}
        >
          <ol class="usage__sessions">
            <For each={props.usage.topSessions}>
              {(session) => (
                <li>
                  <A class="usage__session" href={`/sessions/${encodeURIComponent(session.id)}`}>
                    <span class="usage__session-title">{session.title || "Untitled session"}</span>
                    <span class="usage__session-meta">
                      {formatCost(session.cost)} · {plural(session.generations, "generation")}
                    </span>
                  </A>
                </li>
              )}
            </For>
          </ol>
        </Show>
      </section>
    </div>
  );
}
