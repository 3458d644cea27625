import type { CreateGenerationRequest } from "@contract/api";
import { createSignal, For, type JSX, onMount, Show } from "solid-js";
import { ApiError, errorMessage } from "../api/errors";
import { modelLabel } from "../models";
import { ReferenceTrayView } from "../references";
import { describedBy, FieldError, FormError } from "../ui/fields";
import { ArrowUpIcon, CloseIcon, SlidersIcon } from "../ui/icons";
import {
  type Composer,
  FIELD_PATHS,
  type FieldErrors,
  type FieldPath,
  rememberModel,
  SIZE_PRESETS,
  type SizePresetId,
} from "./composer";

export type PromptComposerProps = {
  composer: Composer;
  /** `hero`: the landing page's big centred box. `dock`: the compact box of a session. */
  variant: "hero" | "dock";
  /** Prefix of element ids, unique per page. */
  id: string;
  placeholder?: string;
  /** Above the prompt: where the next image starts from (the session's source controls). */
  header?: JSX.Element;
  /** A reason the form can't be sent right now (e.g. the selected image failed); shown on submit. */
  blocked?: string | undefined;
  autofocus?: boolean;
  /** Does the work; throw an `ApiError` to have its field errors shown in place. */
  onSubmit: (request: CreateGenerationRequest) => Promise<void>;
};

const isApple = typeof navigator !== "undefined" && /Mac|iPhone|iPad|iPod/.test(navigator.userAgent);
export const SUBMIT_SHORTCUT = isApple ? "⌘ Enter" : "Ctrl Enter";

export function PromptComposer(props: PromptComposerProps): JSX.Element {
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [formError, setFormError] = createSignal<string>();
  const [pending, setPending] = createSignal(false);
  const [moreOpen, setMoreOpen] = createSignal(false);
  const fields = () => props.composer.fields;
  const id = (name: string) => `${props.id}-${name}`;

  const selectedModel = () => props.composer.selectedModel();
  const modelOptions = () => {
    const list = props.composer.modelChoices();
    const current = selectedModel();
    return list.some((m) => m.id === current)
      ? list.map((m) => ({ id: m.id, label: modelLabel(m), description: m.description }))
      : [
          { id: current, label: current, description: "" },
          ...list.map((m) => ({ id: m.id, label: modelLabel(m), description: m.description })),
        ];
  };
  /** Said only when references are attached and the model that will run ignores them. */
  const referenceHint = () => {
    const model = props.composer.selectedSummary();
    if (!model || model.capabilities.references || props.composer.references.items.length === 0) return undefined;
    return `Not used by ${modelLabel(model)}`;
  };
  const carried = () =>
    Object.entries(props.composer.carried()).filter(([, value]) => value !== null && value !== undefined);

  const clearError = (path: FieldPath) => {
    if (errors()[path]) setErrors((prev) => ({ ...prev, [path]: undefined }));
  };

  const customSize = () => fields().size === "custom";
  const sizeError = () => (customSize() ? undefined : (errors()["params.width"] ?? errors()["params.height"]));
  const hasOptionError = () => {
    const e = errors();
    return Boolean(
      e.negativePrompt ||
        e["params.width"] ||
        e["params.height"] ||
        e["params.seed"] ||
        e["params.numOutputs"] ||
        e["params.strength"],
    );
  };

  const focusFirstError = (found: FieldErrors) => {
    const order: [FieldPath, string][] = [
      ["prompt", "prompt"],
      ["model", "model"],
      ["negativePrompt", "negative"],
      ["params.width", customSize() ? "width" : "size"],
      ["params.height", customSize() ? "height" : "size"],
      ["params.seed", "seed"],
      ["params.numOutputs", "count"],
      ["params.strength", "strength"],
    ];
    const first = order.find(([path]) => found[path]);
    if (!first) return;
    if (first[0] !== "prompt" && first[0] !== "model") setMoreOpen(true);
    queueMicrotask(() => document.getElementById(id(first[1]))?.focus());
  };

  let form: HTMLFormElement | undefined;
  let promptInput: HTMLTextAreaElement | undefined;

  onMount(() => {
    if (props.autofocus && window.matchMedia("(pointer: fine)").matches) promptInput?.focus();
  });

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (pending()) return;
    setFormError(undefined);
    if (props.blocked) {
      setFormError(props.blocked);
      return;
    }
    if (props.composer.references.uploading()) {
      setFormError("Wait for the reference images to finish uploading.");
      return;
    }
    const result = props.composer.toRequest();
    if (!result.ok) {
      setErrors(result.errors);
      focusFirstError(result.errors);
      return;
    }
    setErrors({});
    setPending(true);
    try {
      await props.onSubmit(result.request);
      // Remember a model the person picked, not one chosen for them because of a source or a mask.
      if (!props.composer.modelNote()) rememberModel(result.request.model);
    } catch (error) {
      if (error instanceof ApiError) {
        const found: FieldErrors = {};
        for (const path of FIELD_PATHS) {
          const message = error.fieldError(path);
          if (message) found[path] = message;
        }
        setErrors(found);
        const rest = error.unmatchedErrors(FIELD_PATHS);
        if (Object.keys(found).length === 0 || rest.length > 0) {
          const messages = rest.map((r) => r.message).filter((m) => !error.userMessage.includes(m));
          setFormError([error.userMessage, ...messages].join(" "));
        }
        focusFirstError(found);
      } else {
        setFormError(errorMessage(error));
      }
    } finally {
      setPending(false);
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Enter" && (event.metaKey || event.ctrlKey) && !event.isComposing) {
      event.preventDefault();
      form?.requestSubmit();
    }
  };

  /** The width or height input of a custom size, with its field error. */
  const dimensionField = (name: "width" | "height", label: string) => {
    const errorKey = `params.${name}` as const;
    return (
      <div class="field">
        <label class="field__label" for={id(name)}>
          {label}
        </label>
        <input
          id={id(name)}
          class="input"
          type="number"
          inputmode="numeric"
          min={64}
          max={2048}
          step={8}
          value={fields()[name]}
          onInput={(e) => {
            props.composer.set(name, e.currentTarget.value);
            clearError(errorKey);
          }}
          aria-invalid={errors()[errorKey] ? "true" : undefined}
          aria-describedby={describedBy(errors()[errorKey] && id(`${name}-error`))}
        />
        <FieldError id={id(`${name}-error`)} message={errors()[errorKey]} />
      </div>
    );
  };

  return (
    <form
      ref={form}
      class={`composer composer--${props.variant}`}
      classList={{ "is-pending": pending() }}
      novalidate
      onSubmit={submit}
      onKeyDown={onKeyDown}
      aria-busy={pending()}
    >
      <FormError message={formError()} />
      <div class="composer__box" classList={{ "has-error": Boolean(errors().prompt) }}>
        {props.header}
        <label class="visually-hidden" for={id("prompt")}>
          Prompt
        </label>
        <textarea
          ref={promptInput}
          id={id("prompt")}
          class="composer__prompt"
          name="prompt"
          rows={props.variant === "hero" ? 3 : 1}
          maxlength={4000}
          placeholder={props.placeholder ?? "Describe an image…"}
          value={fields().prompt}
          onInput={(e) => {
            props.composer.set("prompt", e.currentTarget.value);
            clearError("prompt");
          }}
          aria-invalid={errors().prompt ? "true" : undefined}
          aria-describedby={describedBy(errors().prompt && id("prompt-error"), id("shortcut"))}
          enterkeyhint="enter"
        />
        <FieldError id={id("prompt-error")} message={errors().prompt} />

        <ReferenceTrayView tray={props.composer.references} id={props.id} hint={referenceHint()} />

        <div class="composer__bar">
          <div class="composer__model">
            <label class="composer__model-label" for={id("model")}>
              Model
            </label>
            <select
              id={id("model")}
              class="select select--compact"
              name="model"
              onChange={(e) => {
                props.composer.set("model", e.currentTarget.value);
                clearError("model");
              }}
              aria-invalid={errors().model ? "true" : undefined}
              aria-describedby={describedBy(
                errors().model && id("model-error"),
                props.composer.modelNote() && id("model-note"),
              )}
            >
              <For each={modelOptions()}>
                {(model) => (
                  <option
                    value={model.id}
                    title={model.description || model.id}
                    selected={model.id === selectedModel()}
                  >
                    {model.label}
                  </option>
                )}
              </For>
            </select>
          </div>
          <button
            type="button"
            class="button button--ghost composer__more-toggle"
            classList={{ "has-error": hasOptionError() }}
            aria-expanded={moreOpen()}
            aria-controls={id("options")}
            onClick={() => setMoreOpen((open) => !open)}
          >
            <SlidersIcon />
            <span class="composer__more-label">More options</span>
          </button>
          <span class="composer__shortcut" id={id("shortcut")}>
            <span class="visually-hidden">Press </span>
            <kbd>{SUBMIT_SHORTCUT}</kbd>
            <span class="visually-hidden"> to generate.</span>
          </span>
          <button type="submit" class="button button--primary composer__submit">
            <Show when={pending()} fallback={<ArrowUpIcon />}>
              <span class="busy-dot" aria-hidden="true" />
            </Show>
            Generate
          </button>
        </div>
        <FieldError id={id("model-error")} message={errors().model} />
        <Show when={props.composer.modelNote()}>
          {(note) => (
            <p class="composer__note" id={id("model-note")}>
              {note()}
            </p>
          )}
        </Show>

        <div class="composer__options" id={id("options")} hidden={!moreOpen()}>
          <div class="field field--wide">
            <label class="field__label" for={id("negative")}>
              Keep out of the image
            </label>
            <textarea
              id={id("negative")}
              class="input input--area"
              name="negativePrompt"
              rows={2}
              maxlength={4000}
              placeholder="text, watermark, blur"
              value={fields().negativePrompt}
              onInput={(e) => {
                props.composer.set("negativePrompt", e.currentTarget.value);
                clearError("negativePrompt");
              }}
              aria-invalid={errors().negativePrompt ? "true" : undefined}
              aria-describedby={describedBy(id("negative-hint"), errors().negativePrompt && id("negative-error"))}
            />
            <p class="field__hint" id={id("negative-hint")}>
              The negative prompt, for models that support one.
            </p>
            <FieldError id={id("negative-error")} message={errors().negativePrompt} />
          </div>

          <div class="field">
            <label class="field__label" for={id("size")}>
              Size
            </label>
            <select
              id={id("size")}
              class="select"
              name="size"
              onChange={(e) => {
                const value = SIZE_PRESETS.find((p) => p.id === e.currentTarget.value)?.id ?? "default";
                props.composer.set("size", value satisfies SizePresetId);
                clearError("params.width");
                clearError("params.height");
              }}
              aria-invalid={sizeError() ? "true" : undefined}
              aria-describedby={describedBy(sizeError() && id("size-error"))}
            >
              <For each={SIZE_PRESETS}>
                {(preset) => (
                  <option value={preset.id} selected={preset.id === fields().size}>
                    {preset.label}
                  </option>
                )}
              </For>
            </select>
            <FieldError id={id("size-error")} message={sizeError()} />
          </div>

          <Show when={customSize()}>
            <div class="field-pair">
              {dimensionField("width", "Width")}
              {dimensionField("height", "Height")}
            </div>
          </Show>

          <div class="field">
            <label class="field__label" for={id("seed")}>
              Seed
            </label>
            <input
              id={id("seed")}
              class="input"
              type="number"
              inputmode="numeric"
              min={0}
              max={4294967295}
              step={1}
              placeholder="Random"
              value={fields().seed}
              onInput={(e) => {
                props.composer.set("seed", e.currentTarget.value);
                clearError("params.seed");
              }}
              aria-invalid={errors()["params.seed"] ? "true" : undefined}
              aria-describedby={describedBy(id("seed-hint"), errors()["params.seed"] && id("seed-error"))}
            />
            <p class="field__hint" id={id("seed-hint")}>
              Same seed and prompt, same image.
            </p>
            <FieldError id={id("seed-error")} message={errors()["params.seed"]} />
          </div>

          <div class="field">
            <label class="field__label" for={id("count")}>
              Number of outputs
            </label>
            <select
              id={id("count")}
              class="select"
              name="numOutputs"
              onChange={(e) => {
                props.composer.set("numOutputs", e.currentTarget.value);
                clearError("params.numOutputs");
              }}
              aria-invalid={errors()["params.numOutputs"] ? "true" : undefined}
              aria-describedby={describedBy(errors()["params.numOutputs"] && id("count-error"))}
            >
              <For each={["1", "2", "3", "4"]}>
                {(n) => (
                  <option value={n} selected={n === fields().numOutputs}>
                    {n}
                  </option>
                )}
              </For>
            </select>
            <FieldError id={id("count-error")} message={errors()["params.numOutputs"]} />
          </div>

          <Show when={props.composer.needs().source}>
            <div class="field">
              <label class="field__label" for={id("strength")}>
                Strength
              </label>
              <input
                id={id("strength")}
                class="input"
                type="number"
                inputmode="decimal"
                min={0}
                max={1}
                step={0.05}
                placeholder="Model default"
                value={fields().strength}
                onInput={(e) => {
                  props.composer.set("strength", e.currentTarget.value);
                  clearError("params.strength");
                }}
                aria-invalid={errors()["params.strength"] ? "true" : undefined}
                aria-describedby={describedBy(id("strength-hint"), errors()["params.strength"] && id("strength-error"))}
              />
              <p class="field__hint" id={id("strength-hint")}>
                0 keeps the source image, 1 ignores it.
              </p>
              <FieldError id={id("strength-error")} message={errors()["params.strength"]} />
            </div>
          </Show>

          <Show when={carried().length > 0}>
            <div class="field field--wide">
              <span class="field__label" id={id("carried-label")}>
                Also sent, from the loaded settings
              </span>
              <div class="carried" role="group" aria-labelledby={id("carried-label")}>
                <ul class="carried__list">
                  <For each={carried()}>
                    {([key, value]) => (
                      <li class="carried__item">
                        {key} <span class="carried__value">{String(value)}</span>
                      </li>
                    )}
                  </For>
                </ul>
                <button
                  type="button"
                  class="button button--ghost button--small"
                  onClick={() => props.composer.clearCarried()}
                >
                  <CloseIcon />
                  Clear these
                </button>
              </div>
            </div>
          </Show>
        </div>
      </div>
    </form>
  );
}
