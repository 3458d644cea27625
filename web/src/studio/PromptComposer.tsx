import { createSignal, For, onMount, Show, type JSX } from "solid-js";
import type { CreateGenerationRequest } from "../../../worker/contract/api";
import { ApiError, errorMessage } from "../lib/api";
import { modelName } from "../lib/format";
import { describedBy, FieldError, FormError } from "../ui/fields";
import { ArrowUpIcon, SlidersIcon } from "../ui/icons";
import {
  FIELD_PATHS,
  rememberedModel,
  rememberModel,
  SIZE_PRESETS,
  type Composer,
  type FieldErrors,
  type FieldPath,
  type SizePresetId,
} from "./composer";
import { useModels } from "./models";

export type PromptComposerProps = {
  composer: Composer;
  /** `hero`: the landing page's big centred box. `dock`: the compact box at the bottom of a session. */
  variant: "hero" | "dock";
  /** Prefix of element ids, unique per page. */
  id: string;
  /** Preferred model when the person hasn't picked one (e.g. the session's model). */
  preferredModel?: string | null | undefined;
  placeholder?: string;
  autofocus?: boolean;
  /** Does the work; throw an `ApiError` to have its field errors shown in place. */
  onSubmit: (request: CreateGenerationRequest) => Promise<void>;
};

const isApple = typeof navigator !== "undefined" && /Mac|iPhone|iPad|iPod/.test(navigator.userAgent);
export const SUBMIT_SHORTCUT = isApple ? "⌘ Enter" : "Ctrl Enter";

export function PromptComposer(props: PromptComposerProps): JSX.Element {
  const models = useModels();
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [formError, setFormError] = createSignal<string>();
  const [pending, setPending] = createSignal(false);
  const [moreOpen, setMoreOpen] = createSignal(false);
  const fields = () => props.composer.fields;
  const id = (name: string) => `${props.id}-${name}`;

  const defaultModel = (): string => {
    const list = models();
    const preferred = props.preferredModel;
    if (preferred) return preferred;
    const remembered = rememberedModel();
    if (remembered && list.some((m) => m.id === remembered)) return remembered;
    return list[0]?.id ?? "black-forest-labs/flux-schnell";
  };
  const selectedModel = () => fields().model || defaultModel();
  const modelOptions = () => {
    const list = models().map((m) => ({ id: m.id, description: m.description }));
    const current = selectedModel();
    return list.some((m) => m.id === current) ? list : [{ id: current, description: "" }, ...list];
  };

  const clearError = (path: FieldPath) => {
    if (errors()[path]) setErrors((prev) => ({ ...prev, [path]: undefined }));
  };

  const customSize = () => fields().size === "custom";
  const sizeError = () => (customSize() ? undefined : (errors()["params.width"] ?? errors()["params.height"]));
  const hasOptionError = () => {
    const e = errors();
    return Boolean(e.negativePrompt || e["params.width"] || e["params.height"] || e["params.seed"] || e["params.numOutputs"]);
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
    const result = props.composer.toRequest(selectedModel());
    if (!result.ok) {
      setErrors(result.errors);
      focusFirstError(result.errors);
      return;
    }
    setErrors({});
    setPending(true);
    try {
      await props.onSubmit(result.request);
      rememberModel(result.request.model);
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
          setFormError(rest.length > 0 ? rest.map((r) => r.message).join(" ") : error.userMessage);
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
              aria-describedby={describedBy(errors().model && id("model-error"))}
            >
              <For each={modelOptions()}>
                {(model) => (
                  <option value={model.id} title={model.description || model.id} selected={model.id === selectedModel()}>
                    {modelName(model.id)}
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
              <div class="field">
                <label class="field__label" for={id("width")}>
                  Width
                </label>
                <input
                  id={id("width")}
                  class="input"
                  type="number"
                  inputmode="numeric"
                  min={64}
                  max={2048}
                  step={8}
                  value={fields().width}
                  onInput={(e) => {
                    props.composer.set("width", e.currentTarget.value);
                    clearError("params.width");
                  }}
                  aria-invalid={errors()["params.width"] ? "true" : undefined}
                  aria-describedby={describedBy(errors()["params.width"] && id("width-error"))}
                />
                <FieldError id={id("width-error")} message={errors()["params.width"]} />
              </div>
              <div class="field">
                <label class="field__label" for={id("height")}>
                  Height
                </label>
                <input
                  id={id("height")}
                  class="input"
                  type="number"
                  inputmode="numeric"
                  min={64}
                  max={2048}
                  step={8}
                  value={fields().height}
                  onInput={(e) => {
                    props.composer.set("height", e.currentTarget.value);
                    clearError("params.height");
                  }}
                  aria-invalid={errors()["params.height"] ? "true" : undefined}
                  aria-describedby={describedBy(errors()["params.height"] && id("height-error"))}
                />
                <FieldError id={id("height-error")} message={errors()["params.height"]} />
              </div>
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
        </div>
      </div>
    </form>
  );
}
