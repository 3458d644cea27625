import { type Asset, type Generation, isTerminalStatus } from "@contract/api";
import { createSignal, For, type JSX, Show } from "solid-js";
import { errorMessage } from "../api/errors";
import { formatAbsolute, formatCost, formatDuration, formatRelative, paramLabel } from "../lib/format";
import { REPLICATE_STATUS_LABEL } from "../references";
import { ConfirmButton } from "../ui/ConfirmButton";
import { CopyIcon, DiceIcon, FilmIcon, RetryIcon, StopIcon, TrashIcon } from "../ui/icons";
import { ProgressBar, StatusBadge } from "./StatusBadge";
import { outputsOf } from "./slots";

export type GenerationActions = {
  cancel: (generation: Generation) => Promise<void>;
  retry: (generation: Generation, newSeed: boolean) => Promise<void>;
  /** Starts a video from one of its images (its first frame). */
  animate: (generation: Generation, outputIndex: number) => Promise<void>;
  useBatch: (generation: Generation) => void;
  remove: (generation: Generation) => Promise<void>;
};

export type GenerationDetailsProps = {
  generation: Generation;
  outputIndex: number;
  /** The parent generation, when it still exists. */
  parent: Generation | undefined;
  onSelect: (generationId: string, outputIndex: number) => void;
  actions: GenerationActions;
};

const STANDARD = new Set(["width", "height", "steps", "guidance", "strength", "scheduler", "seed", "numOutputs"]);

/** The selected generation: what it was asked, how it went, and what can be done with it. */
export function GenerationDetails(props: GenerationDetailsProps): JSX.Element {
  const [busy, setBusy] = createSignal<"cancel" | "retry" | "regenerate" | "animate" | null>(null);
  const [actionError, setActionError] = createSignal<string>();
  const g = () => props.generation;
  const active = () => !isTerminalStatus(g().status);
  const asset = (): Asset | undefined => outputsOf(g())[props.outputIndex];
  const seed = () => (typeof g().params.seed === "number" ? g().params.seed : undefined);
  const animatable = () => {
    const a = asset();
    return Boolean(a && g().status === "succeeded" && a.mimeType.startsWith("image/"));
  };
  const inputOf = (role: "input" | "mask") => g().inputs.find((a) => a.role === role);

  const run = async (kind: "cancel" | "retry" | "regenerate" | "animate") => {
    if (busy()) return;
    setBusy(kind);
    setActionError(undefined);
    try {
      if (kind === "cancel") await props.actions.cancel(g());
      else if (kind === "animate") await props.actions.animate(g(), props.outputIndex);
      else await props.actions.retry(g(), kind === "regenerate");
    } catch (error) {
      setActionError(errorMessage(error));
    } finally {
      setBusy(null);
    }
  };

  const size = () => {
    const a = asset();
    if (a?.width && a.height) return `${a.width} × ${a.height}`;
    const { width, height } = g().params;
    return typeof width === "number" && typeof height === "number" ? `${width} × ${height} (asked)` : "Model default";
  };
  const num = (value: unknown) => (typeof value === "number" ? String(value) : undefined);
  const extras = () =>
    Object.entries(g().params).filter(([key, value]) => !STANDARD.has(key) && value !== null && value !== undefined);
  const timing = () => {
    const parts: string[] = [];
    if (g().durationMs !== null) parts.push(formatDuration(g().durationMs ?? 0));
    if (g().startedAt) {
      const wait = Date.parse(g().startedAt ?? "") - Date.parse(g().createdAt);
      if (Number.isFinite(wait) && wait >= 1000) parts.push(`after ${formatDuration(wait)} queued`);
    }
    return parts.join(", ");
  };

  return (
    <section
      class="details"
      aria-labelledby="details-title"
      data-testid="generation-details"
      data-generation-id={g().id}
      data-status={g().status}
    >
      <header class="details__head">
        <h2 id="details-title" class="details__title">
          Details
        </h2>
        <StatusBadge status={g().status} />
        <time class="details__time" datetime={g().createdAt} title={formatAbsolute(g().createdAt)}>
          {formatRelative(g().createdAt)}
        </time>
      </header>

      <Show when={active()}>
        <ProgressBar status={g().status} progress={g().progress} />
      </Show>
      <Show when={g().error && !active()}>
        <p class="gen__error">{g().error}</p>
      </Show>

      <p class="details__prompt">{g().prompt}</p>

      <dl class="params">
        <Show when={g().negativePrompt}>{(negative) => <Param name="Negative prompt" value={negative()} wide />}</Show>
        <Param name="Model" value={g().model} mono wide />
        <Param name="Size" value={size()} />
        <Param name={paramLabel("seed")} value={num(g().params.seed) ?? "None (the model takes no seed)"} mono />
        <Show when={num(g().params.steps)}>{(v) => <Param name={paramLabel("steps")} value={v()} />}</Show>
        <Show when={num(g().params.guidance)}>{(v) => <Param name={paramLabel("guidance")} value={v()} />}</Show>
        <Show when={num(g().params.strength)}>{(v) => <Param name={paramLabel("strength")} value={v()} />}</Show>
        <Show when={typeof g().params.scheduler === "string" ? String(g().params.scheduler) : undefined}>
          {(v) => <Param name={paramLabel("scheduler")} value={v()} />}
        </Show>
        <Show when={num(g().params.numOutputs)}>{(v) => <Param name={paramLabel("numOutputs")} value={v()} />}</Show>
        <For each={extras()}>{([key, value]) => <Param name={paramLabel(key)} value={String(value)} mono />}</For>
        <Show when={timing()}>{(v) => <Param name="Time" value={v()} />}</Show>
        <Show
          when={g().cost !== null}
          fallback={
            <Show when={active() && g().estimatedCost !== null}>
              <Param name="Cost" value={`about ${formatCost(g().estimatedCost ?? 0)}`} />
            </Show>
          }
        >
          <Param name="Cost" value={formatCost(g().cost ?? 0)} />
        </Show>
        <div class="params__item params__item--wide">
          <dt>Source</dt>
          <dd>
            <Show
              when={g().parentGenerationId}
              fallback={
                <Show when={inputOf("input")} fallback="Text only">
                  {(input) => (
                    <span class="details__source">
                      <img src={input().thumbnailUrl} alt="" width={32} height={32} loading="lazy" />
                      An uploaded image
                    </span>
                  )}
                </Show>
              }
            >
              <Show when={props.parent} fallback={<span class="lineage__orphan">source deleted</span>}>
                {(parent) => (
                  <button
                    type="button"
                    class="button button--link details__source-link"
                    onClick={() => props.onSelect(parent().id, g().sourceOutputIndex ?? 0)}
                  >
                    Image {(g().sourceOutputIndex ?? 0) + 1} of “{parent().prompt}”
                  </button>
                )}
              </Show>
            </Show>
            <Show when={inputOf("mask")}>
              {(mask) => (
                <span class="details__source">
                  <img src={mask().thumbnailUrl} alt="" width={32} height={32} loading="lazy" />
                  with a mask
                </span>
              )}
            </Show>
          </dd>
        </div>
        <Show when={g().references.length > 0}>
          <div class="params__item params__item--wide">
            <dt>References</dt>
            <dd>
              <ul class="details__refs">
                <For each={g().references}>
                  {(reference) => (
                    <li
                      class="details__ref"
                      title={`${reference.originalName} (${REPLICATE_STATUS_LABEL[reference.replicateStatus]})`}
                    >
                      <img
                        src={reference.thumbnailUrl}
                        alt={reference.originalName}
                        width={40}
                        height={40}
                        loading="lazy"
                      />
                    </li>
                  )}
                </For>
              </ul>
            </dd>
          </div>
        </Show>
      </dl>

      <div class="details__actions">
        <Show when={active()}>
          <button
            type="button"
            class="button button--ghost button--small"
            aria-busy={busy() === "cancel"}
            onClick={() => void run("cancel")}
          >
            <StopIcon />
            Cancel
          </button>
        </Show>
        <Show when={!active()}>
          <button
            type="button"
            class="button button--ghost button--small"
            title="Run it again with the same settings and the same seed"
            aria-busy={busy() === "retry"}
            onClick={() => void run("retry")}
          >
            <RetryIcon />
            {seed() !== undefined ? "Regenerate with this seed" : "Retry"}
          </button>
          <Show when={seed() !== undefined}>
            <button
              type="button"
              class="button button--ghost button--small"
              title="Run it again with a new seed"
              aria-busy={busy() === "regenerate"}
              onClick={() => void run("regenerate")}
            >
              <DiceIcon />
              New seed
            </button>
          </Show>
          <Show when={animatable()}>
            <button
              type="button"
              class="button button--ghost button--small"
              title="Make a short video that starts from this image"
              aria-busy={busy() === "animate"}
              onClick={() => void run("animate")}
            >
              <FilmIcon />
              Animate
            </button>
          </Show>
        </Show>
        <button
          type="button"
          class="button button--ghost button--small"
          title="Use these settings: load its model, prompt, negative prompt, parameters and references into the form"
          onClick={() => props.actions.useBatch(g())}
        >
          <CopyIcon />
          Use this batch
        </button>
        <ConfirmButton
          label="Delete"
          question={
            active()
              ? "Cancel and delete this generation?"
              : `Delete this generation${outputsOf(g()).length > 1 ? " and its images" : " and its image"}?`
          }
          icon={<TrashIcon />}
          onConfirm={() => props.actions.remove(g())}
        />
      </div>
      <Show when={actionError()}>
        <p class="field__error" role="alert">
          {actionError()}
        </p>
      </Show>
    </section>
  );
}

function Param(props: { name: string; value: string; mono?: boolean; wide?: boolean }): JSX.Element {
  return (
    <div class="params__item" classList={{ "params__item--wide": Boolean(props.wide) }}>
      <dt>{props.name}</dt>
      <dd classList={{ params__mono: Boolean(props.mono) }}>{props.value}</dd>
    </div>
  );
}
