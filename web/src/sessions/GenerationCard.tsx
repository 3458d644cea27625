import { createSignal, For, Index, Match, Show, Switch, type JSX } from "solid-js";
import { isTerminalStatus, type Asset, type Generation, type GenerationStatus } from "../../../worker/contract/api";
import { errorMessage } from "../lib/api";
import { formatAbsolute, formatCost, formatDuration, formatRelative, modelName } from "../lib/format";
import { RetryIcon } from "../ui/icons";

const STATUS_LABEL: Record<GenerationStatus, string> = {
  queued: "Queued",
  starting: "Starting",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  canceled: "Canceled",
  timed_out: "Timed out",
};

export function StatusBadge(props: { status: GenerationStatus }): JSX.Element {
  return (
    <span class={`badge badge--${props.status}`}>
      <span class="badge__dot" aria-hidden="true" />
      {STATUS_LABEL[props.status]}
    </span>
  );
}

export type GenerationCardProps = {
  generation: Generation;
  /** Load this generation's prompt and settings into the prompt box. */
  onReuse: (generation: Generation) => void;
  onCancel: (generation: Generation) => Promise<void>;
  onRetry: (generation: Generation) => Promise<void>;
};

export function GenerationCard(props: GenerationCardProps): JSX.Element {
  const [busy, setBusy] = createSignal<"cancel" | "retry" | null>(null);
  const [actionError, setActionError] = createSignal<string>();

  const active = () => !isTerminalStatus(props.generation.status);
  const failed = () => props.generation.status === "failed" || props.generation.status === "timed_out";
  const retryable = () => failed() || props.generation.status === "canceled";
  const percent = () => Math.round(props.generation.progress * 100);

  const expectedOutputs = () => {
    const n = props.generation.params.numOutputs;
    return typeof n === "number" && n >= 1 ? Math.min(4, Math.floor(n)) : 1;
  };
  const requestedSize = () => {
    const { width, height } = props.generation.params;
    return typeof width === "number" && typeof height === "number" ? { width, height } : null;
  };
  const aspect = () => {
    const size = requestedSize();
    return size ? `${size.width} / ${size.height}` : "1 / 1";
  };
  const outputs = () => props.generation.outputs.filter((a) => a.role === "output");
  const gridClass = () => `gen__outputs gen__outputs--${Math.min(active() ? expectedOutputs() : outputs().length, 4)}`;

  const run = async (kind: "cancel" | "retry") => {
    if (busy()) return;
    setBusy(kind);
    setActionError(undefined);
    try {
      await (kind === "cancel" ? props.onCancel(props.generation) : props.onRetry(props.generation));
    } catch (error) {
      setActionError(errorMessage(error));
    } finally {
      setBusy(null);
    }
  };

  const details = () => {
    const g = props.generation;
    const parts: string[] = [];
    const size = requestedSize();
    const first = outputs()[0];
    if (first?.width && first.height) parts.push(`${first.width} × ${first.height}`);
    else if (size) parts.push(`${size.width} × ${size.height}`);
    if (typeof g.params.seed === "number") parts.push(`seed ${g.params.seed}`);
    if (g.durationMs !== null && isTerminalStatus(g.status)) parts.push(formatDuration(g.durationMs));
    if (g.cost !== null) parts.push(formatCost(g.cost));
    return parts;
  };

  return (
    <article
      class="gen"
      classList={{ "gen--active": active(), "gen--failed": failed() }}
      data-testid="generation"
      data-status={props.generation.status}
      data-generation-id={props.generation.id}
    >
      <header class="gen__head">
        <StatusBadge status={props.generation.status} />
        <span class="gen__model" title={props.generation.model}>
          {modelName(props.generation.model)}
        </span>
        <time class="gen__time" datetime={props.generation.createdAt} title={formatAbsolute(props.generation.createdAt)}>
          {formatRelative(props.generation.createdAt)}
        </time>
      </header>

      <h3 class="gen__prompt">
        {props.generation.prompt}
      </h3>
      <Show when={props.generation.negativePrompt}>
        {(negative) => (
          <p class="gen__negative">
            <span class="gen__negative-label">Keep out:</span> {negative()}
          </p>
        )}
      </Show>

      <Show when={active()}>
        <div
          class="progress"
          classList={{ "progress--indeterminate": props.generation.status !== "running" || percent() === 0 }}
          role="progressbar"
          aria-label="Generation progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={props.generation.status === "running" && percent() > 0 ? percent() : undefined}
          aria-valuetext={
            props.generation.status === "running" && percent() > 0
              ? `${percent()} percent`
              : STATUS_LABEL[props.generation.status]
          }
        >
          <span class="progress__fill" style={{ width: `${Math.max(percent(), 2)}%` }} />
        </div>
      </Show>

      <Show when={failed() || (props.generation.status === "canceled" && props.generation.error)}>
        <p class="gen__error">{props.generation.error ?? "The model didn't return an image."}</p>
      </Show>

      <Switch>
        <Match when={outputs().length > 0}>
          <div class={gridClass()}>
            <For each={outputs()}>
              {(asset, index) => (
                <OutputMedia
                  asset={asset}
                  index={index()}
                  count={outputs().length}
                  prompt={props.generation.prompt}
                  fallbackSize={requestedSize()}
                />
              )}
            </For>
          </div>
        </Match>
        <Match when={active()}>
          <div class={gridClass()} aria-hidden="true">
            <Index each={Array.from({ length: expectedOutputs() })}>
              {() => <span class="skeleton gen__placeholder" style={{ "aspect-ratio": aspect() }} />}
            </Index>
          </div>
        </Match>
      </Switch>

      <footer class="gen__foot">
        <span class="gen__details">{details().join(" · ")}</span>
        <span class="gen__actions">
          <button type="button" class="button button--ghost button--small" onClick={() => props.onReuse(props.generation)}>
            Reuse prompt
          </button>
          <Show when={active()}>
            <button
              type="button"
              class="button button--ghost button--small"
              aria-busy={busy() === "cancel"}
              onClick={() => void run("cancel")}
            >
              Cancel
            </button>
          </Show>
          <Show when={retryable()}>
            <button
              type="button"
              class="button button--ghost button--small"
              aria-busy={busy() === "retry"}
              onClick={() => void run("retry")}
            >
              <RetryIcon />
              Retry
            </button>
          </Show>
        </span>
      </footer>
      <Show when={actionError()}>
        <p class="field__error" role="alert">
          {actionError()}
        </p>
      </Show>
    </article>
  );
}

function OutputMedia(props: {
  asset: Asset;
  index: number;
  count: number;
  prompt: string;
  fallbackSize: { width: number; height: number } | null;
}): JSX.Element {
  const width = () => props.asset.width ?? props.fallbackSize?.width ?? 1024;
  const height = () => props.asset.height ?? props.fallbackSize?.height ?? 1024;
  const label = () =>
    props.count > 1 ? `Image ${props.index + 1} of ${props.count}: ${props.prompt}` : `Image: ${props.prompt}`;
  return (
    <Show
      when={!props.asset.mimeType.startsWith("video/")}
      fallback={
        <video
          class="gen__output-media"
          data-testid="output-video"
          src={props.asset.url}
          width={width()}
          height={height()}
          controls
          playsinline
          preload="metadata"
          title={label()}
        />
      }
    >
      <a class="gen__output" href={props.asset.url} target="_blank" rel="noopener">
        <img
          class="gen__output-media"
          data-testid="output-image"
          src={props.asset.url}
          width={width()}
          height={height()}
          alt={label()}
          loading="lazy"
          decoding="async"
        />
      </a>
    </Show>
  );
}
