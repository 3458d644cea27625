import type { CreateGenerationRequest, Usage } from "@contract/api";
import { createResource, createSignal, type JSX, Match, onMount, Show, Switch } from "solid-js";
import { ApiError, errorMessage } from "../api/errors";
import { fetchUsage } from "../api/usage";
import { formatCost } from "../lib/format";
import { ModelPicker, modelLabel, priceLabel } from "../models";
import { ReferenceTrayView } from "../references";
import { describedBy, FieldError, FormError } from "../ui/fields";
import { ArrowUpIcon, SlidersIcon } from "../ui/icons";
import { type Composer, type FieldErrors, rememberModel } from "./composer";
import { SchemaFields } from "./SchemaFields";
import type { Feed } from "./schemaForm";

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
  /** What feeds the model's image input now ("the selected image", "your uploaded image"). */
  sourceLabel?: string | undefined;
  autofocus?: boolean;
  /** Does the work; throw an `ApiError` to have its field errors shown in place. */
  onSubmit: (request: CreateGenerationRequest) => Promise<void>;
};

const isApple = typeof navigator !== "undefined" && /Mac|iPhone|iPad|iPod/.test(navigator.userAgent);
export const SUBMIT_SHORTCUT = isApple ? "⌘ Enter" : "Ctrl Enter";

const today = () => new Date().toISOString().slice(0, 10);

/** What is left of today's quota, in a few words; null when nothing is limited. */
function allowance(quota: Usage["quota"]): string | null {
  const parts: string[] = [];
  const { generations, cost } = quota;
  if (generations.limit !== null) parts.push(`${Math.max(0, generations.limit - generations.used)} generations`);
  if (cost.limit !== null) parts.push(formatCost(Math.max(0, cost.limit - cost.used)));
  return parts.length ? `${parts.join(" · ")} left today` : null;
}

export function PromptComposer(props: PromptComposerProps): JSX.Element {
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [formError, setFormError] = createSignal<string>();
  const [pending, setPending] = createSignal(false);
  const [moreOpen, setMoreOpen] = createSignal(false);
  const [usage, { refetch: refetchUsage }] = createResource(() =>
    fetchUsage({ from: today(), to: today() }).catch(() => null),
  );
  const composer = () => props.composer;
  const fields = () => props.composer.fields;
  const id = (name: string) => `${props.id}-${name}`;
  const model = () => props.composer.selectedSummary();
  const hasNegative = () => Boolean(model()?.inputs.negativePrompt);

  /** Said only when references are attached and the model that will run ignores them. */
  const referenceHint = () => {
    const m = model();
    if (!m || m.capabilities.references || props.composer.references.items.length === 0) return undefined;
    return `Not used by ${modelLabel(m)}`;
  };
  const schemaFields = () => props.composer.schemaFields().filter((field) => visible(field.name));
  /** Strength only matters when starting from an image; the mask input only with a source. */
  const visible = (name: string) => {
    const inputs = model()?.inputs;
    if (name === inputs?.strength) return props.composer.needs().source;
    return true;
  };
  const mainFields = () => schemaFields().filter((field) => field.group === "main");
  const rareFields = () => schemaFields().filter((field) => field.group === "rare");
  const feedLabel = (feed: Feed | undefined): string => {
    const needs = props.composer.needs();
    if (feed === "image")
      return needs.source ? `From ${props.sourceLabel ?? "the image you start from"}.` : "None: text only.";
    if (feed === "mask") return needs.mask ? "From the mask you drew." : "None: draw a mask on the source to use one.";
    if (feed === "references") {
      const count = props.composer.references.items.length;
      return count > 0 ? `From the reference tray (${count}).` : "None: add reference images above.";
    }
    return "Not set by the studio; the model's default applies.";
  };

  const clearError = (path: string) => {
    if (errors()[path]) setErrors((prev) => ({ ...prev, [path]: undefined }));
  };
  const hasOptionError = () =>
    Object.entries(errors()).some(([path, message]) => message && path !== "prompt" && path !== "model");

  const focusFirstError = (found: FieldErrors) => {
    const paths = Object.keys(found).filter((path) => found[path]);
    if (paths.length === 0) return;
    const first = paths.includes("prompt") ? "prompt" : paths.includes("model") ? "model" : paths[0];
    if (!first) return;
    if (first !== "prompt" && first !== "model") setMoreOpen(true);
    const target =
      first === "negativePrompt"
        ? id("negative")
        : first.startsWith("params.")
          ? id(`p-${first.slice("params.".length)}`)
          : id(first);
    queueMicrotask(() => {
      const element = document.getElementById(target);
      const folded = element?.closest("details");
      if (folded) folded.open = true;
      element?.focus();
    });
  };

  let form: HTMLFormElement | undefined;
  let promptInput: HTMLTextAreaElement | undefined;

  onMount(() => {
    if (props.autofocus && window.matchMedia("(pointer: fine)").matches) promptInput?.focus();
  });

  const knownPaths = () => [
    "prompt",
    "model",
    "negativePrompt",
    ...props.composer.schemaFields().map((field) => `params.${field.name}`),
  ];

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
      const unplaced = Object.entries(result.errors).filter(
        ([path, message]) => message && !knownPaths().includes(path),
      );
      if (unplaced.length) setFormError(unplaced.map(([path, message]) => `${path}: ${message}`).join(" "));
      focusFirstError(result.errors);
      return;
    }
    setErrors({});
    setPending(true);
    try {
      await props.onSubmit(result.request);
      rememberModel(result.request.model);
      void refetchUsage();
    } catch (error) {
      if (error instanceof ApiError) {
        const found: FieldErrors = {};
        for (const path of knownPaths()) {
          const message = error.fieldError(path);
          if (message) found[path] = message;
        }
        setErrors(found);
        const rest = error.unmatchedErrors(knownPaths());
        if (Object.keys(found).length === 0 || rest.length > 0) {
          const messages = rest.map((r) => `${r.path}: ${r.message}`).filter((m) => !error.userMessage.includes(m));
          setFormError([error.userMessage, ...messages].join(" "));
        }
        if (error.status === 403 || error.status === 429) void refetchUsage();
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

  const estimate = () => props.composer.estimate();

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
            <ModelPicker
              id={props.id}
              models={props.composer.models()}
              selected={model()}
              selectedId={props.composer.selectedModel()}
              needs={props.composer.needs()}
              onSelect={(modelId) => {
                props.composer.set("model", modelId);
                clearError("model");
              }}
              invalid={Boolean(errors().model)}
              describedBy={describedBy(
                errors().model && id("model-error"),
                props.composer.modelNote() && id("model-note"),
                id("price"),
              )}
            />
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
        <p class="composer__cost" id={id("price")} data-testid="cost-estimate">
          <Show when={!props.composer.modelsLoading() && model()}>
            {(m) => (
              <>
                <Show when={estimate() !== null} fallback={<span>{priceLabel(m())}</span>}>
                  <span>
                    About {formatCost(estimate() ?? 0)}
                    {m().pricing?.per === "second" ? " (billed by GPU time)" : ""}
                  </span>
                </Show>
                <Show when={usage.latest ? allowance(usage.latest.quota) : null}>
                  {(left) => (
                    <span class="composer__quota" data-testid="quota-left">
                      {" "}
                      · {left()}
                    </span>
                  )}
                </Show>
              </>
            )}
          </Show>
        </p>
        <FieldError id={id("model-error")} message={errors().model} />
        <Show when={props.composer.modelNote()}>
          <p class="composer__note" id={id("model-note")}>
            <Show when={!errors().model}>{props.composer.modelNote()} </Show>
            <Show when={props.composer.suggestion()}>
              {(other) => (
                <button
                  type="button"
                  class="button button--link"
                  onClick={() => {
                    props.composer.set("model", other().id);
                    clearError("model");
                  }}
                >
                  Use {modelLabel(other())} instead
                </button>
              )}
            </Show>
          </p>
        </Show>

        <div class="composer__options" id={id("options")} hidden={!moreOpen()} data-testid="model-settings">
          <Show when={hasNegative()}>
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
                The negative prompt: what this model should leave out.
              </p>
              <FieldError id={id("negative-error")} message={errors().negativePrompt} />
            </div>
          </Show>
          <Switch>
            <Match when={composer().schema.loading && schemaFields().length === 0}>
              <p class="field__hint field--wide">Loading this model's settings…</p>
            </Match>
            <Match when={schemaFields().length > 0}>
              <SchemaFields
                composer={props.composer}
                id={props.id}
                fields={mainFields()}
                errors={errors()}
                onChange={clearError}
                feedLabel={feedLabel}
              />
              <Show when={rareFields().length > 0}>
                <details class="composer__rare field--wide">
                  <summary class="composer__rare-summary">More settings ({rareFields().length})</summary>
                  <div class="composer__rare-fields">
                    <SchemaFields
                      composer={props.composer}
                      id={props.id}
                      fields={rareFields()}
                      errors={errors()}
                      onChange={clearError}
                      feedLabel={feedLabel}
                    />
                  </div>
                </details>
              </Show>
              <Show when={props.composer.touched().length > 0}>
                <div class="field field--wide">
                  <button
                    type="button"
                    class="button button--ghost button--small"
                    onClick={() => props.composer.resetValues()}
                  >
                    Back to the model's defaults
                  </button>
                </div>
              </Show>
            </Match>
            <Match when={true}>
              <p class="field__hint field--wide">
                This model's own settings could not be loaded; it runs with its defaults.
              </p>
              <div class="field">
                <label class="field__label" for={id("p-seed")}>
                  Seed
                </label>
                <input
                  id={id("p-seed")}
                  class="input"
                  type="number"
                  inputmode="numeric"
                  min={0}
                  step={1}
                  placeholder="Random"
                  value={fields().seed}
                  onInput={(e) => {
                    props.composer.set("seed", e.currentTarget.value);
                    clearError("params.seed");
                  }}
                  aria-invalid={errors()["params.seed"] ? "true" : undefined}
                  aria-describedby={describedBy(errors()["params.seed"] && id("p-seed-error"))}
                />
                <FieldError id={id("p-seed-error")} message={errors()["params.seed"]} />
              </div>
            </Match>
          </Switch>
        </div>
      </div>
    </form>
  );
}
