import "./models.css";
import type { ModelSummary } from "@contract/api";
import { createSignal, For, type JSX, onCleanup, onMount, Show } from "solid-js";
import { errorMessage, isApiError } from "../api/errors";
import { announce } from "../ui/announcer";
import { describedBy, FieldError } from "../ui/fields";
import { ChevronRightIcon, CloseIcon, ImageIcon, PlusIcon, TrashIcon } from "../ui/icons";
import { addModelByName, type ModelNeeds, modelLabel, priceLabel, removeAddedModel, unmetNeed } from "./catalog";

export type ModelPickerProps = {
  /** Prefix of element ids, unique per page. */
  id: string;
  models: readonly ModelSummary[];
  selected: ModelSummary | undefined;
  selectedId: string;
  /** What the next generation needs: models that can't do it say why (they stay choosable). */
  needs: ModelNeeds;
  onSelect: (id: string) => void;
  describedBy?: string | undefined;
  invalid?: boolean;
};

function Cover(props: { model: ModelSummary | undefined; size: number }): JSX.Element {
  return (
    <span class="modelcover" style={{ width: `${props.size}px`, height: `${props.size}px` }}>
      <Show when={props.model?.coverImageUrl} fallback={<ImageIcon class="icon" />}>
        {(url) => <img src={url()} alt="" width={props.size} height={props.size} loading="lazy" decoding="async" />}
      </Show>
    </span>
  );
}

/**
 * The model of the next generation: a button showing it (cover, name, price) that opens the list of
 * models (the catalog and the person's own) with what each is, does and costs, and a field to add any
 * public Replicate model by name. It never chooses for the person.
 */
export function ModelPicker(props: ModelPickerProps): JSX.Element {
  const [open, setOpen] = createSignal(false);
  return (
    <>
      <button
        type="button"
        id={`${props.id}-model`}
        class="modelbutton"
        aria-haspopup="dialog"
        aria-expanded={open()}
        aria-describedby={props.describedBy}
        aria-invalid={props.invalid ? "true" : undefined}
        data-testid="model-picker"
        onClick={() => setOpen(true)}
      >
        <Cover model={props.selected} size={32} />
        <span class="modelbutton__text">
          <span class="modelbutton__label">Model</span>
          <span class="modelbutton__name">{props.selected ? modelLabel(props.selected) : props.selectedId}</span>
        </span>
        <ChevronRightIcon class="icon modelbutton__chevron" />
      </button>
      <Show when={open()}>
        <ModelDialog {...props} onClose={() => setOpen(false)} />
      </Show>
    </>
  );
}

function ModelDialog(props: ModelPickerProps & { onClose: () => void }): JSX.Element {
  let dialog: HTMLDialogElement | undefined;
  const [name, setName] = createSignal("");
  const [adding, setAdding] = createSignal(false);
  const [addError, setAddError] = createSignal<string>();
  const fieldId = `${props.id}-add-model`;
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  onMount(() => dialog?.showModal());
  onCleanup(() => {
    if (dialog?.open) dialog.close();
    if (opener?.isConnected) queueMicrotask(() => opener.focus());
  });
  const pick = (model: ModelSummary) => {
    props.onSelect(model.id);
    announce(`${modelLabel(model)} selected`);
    props.onClose();
  };
  const add = async (event: SubmitEvent) => {
    event.preventDefault();
    event.stopPropagation();
    const id = name().trim();
    if (!id) {
      setAddError("Type a model as owner/name, e.g. kwaivgi/kling-v2.0.");
      return;
    }
    setAdding(true);
    setAddError(undefined);
    try {
      const model = await addModelByName(id);
      setName("");
      pick(model);
    } catch (error) {
      setAddError(isApiError(error) ? (error.fieldError("id") ?? errorMessage(error)) : errorMessage(error));
      // The list scrolls above the field: bring the reason into view.
      queueMicrotask(() => document.getElementById(`${fieldId}-error`)?.scrollIntoView({ block: "nearest" }));
    } finally {
      setAdding(false);
    }
  };
  const remove = async (model: ModelSummary) => {
    try {
      await removeAddedModel(model.id);
      announce(`${modelLabel(model)} removed from your models`);
    } catch (error) {
      setAddError(errorMessage(error));
    }
  };
  const group = (source: ModelSummary["source"]) => props.models.filter((model) => model.source === source);

  return (
    <dialog
      ref={dialog}
      class="modeldlg"
      aria-labelledby={`${props.id}-models-title`}
      onCancel={(event) => {
        event.preventDefault();
        props.onClose();
      }}
    >
      <header class="modeldlg__head">
        <h2 id={`${props.id}-models-title`} class="modeldlg__title">
          Choose a model
        </h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={() => props.onClose()}>
          <CloseIcon />
        </button>
      </header>
      <div class="modeldlg__body">
        <ModelList
          title="Curated"
          models={group("catalog")}
          selectedId={props.selectedId}
          needs={props.needs}
          onPick={pick}
        />
        <Show when={group("added").length > 0}>
          <ModelList
            title="Your models"
            models={group("added")}
            selectedId={props.selectedId}
            needs={props.needs}
            onPick={pick}
            onRemove={(model) => void remove(model)}
          />
        </Show>
        <form class="modeldlg__add" onSubmit={add} novalidate>
          <label class="field__label" for={fieldId}>
            Add any public model from Replicate
          </label>
          <div class="modeldlg__addrow">
            <input
              id={fieldId}
              class="input"
              name="model"
              autocomplete="off"
              spellcheck={false}
              placeholder="owner/name or owner/name:version"
              value={name()}
              onInput={(event) => {
                setName(event.currentTarget.value);
                setAddError(undefined);
              }}
              aria-invalid={addError() ? "true" : undefined}
              aria-describedby={describedBy(`${fieldId}-hint`, addError() && `${fieldId}-error`)}
            />
            <button type="submit" class="button" aria-busy={adding()} disabled={adding()}>
              <PlusIcon />
              Add
            </button>
          </div>
          <p class="field__hint" id={`${fieldId}-hint`}>
            Its own settings come from the model's schema on Replicate.
          </p>
          <FieldError id={`${fieldId}-error`} message={addError()} />
        </form>
      </div>
    </dialog>
  );
}

function ModelList(props: {
  title: string;
  models: readonly ModelSummary[];
  selectedId: string;
  needs: ModelNeeds;
  onPick: (model: ModelSummary) => void;
  onRemove?: (model: ModelSummary) => void;
}): JSX.Element {
  return (
    <section class="modellist" aria-label={props.title}>
      <h3 class="modellist__title">{props.title}</h3>
      <ul class="modellist__items">
        <For each={props.models}>
          {(model) => {
            const unmet = () => unmetNeed(model, props.needs);
            return (
              <li class="modelcard" classList={{ "is-selected": model.id === props.selectedId }}>
                <button
                  type="button"
                  class="modelcard__pick"
                  aria-pressed={model.id === props.selectedId}
                  data-model-id={model.id}
                  onClick={() => props.onPick(model)}
                >
                  <Cover model={model} size={56} />
                  <span class="modelcard__text">
                    <span class="modelcard__name">
                      {modelLabel(model)}
                      <span class="modelcard__id">{model.id}</span>
                    </span>
                    <span class="modelcard__desc">{model.description || "No description."}</span>
                    <span class="modelcard__meta">
                      <span class="modelcard__price">{priceLabel(model)}</span>
                      <Show when={unmet()}>{(reason) => <span class="modelcard__unmet">It {reason()}</span>}</Show>
                    </span>
                  </span>
                </button>
                <Show when={props.onRemove}>
                  {(remove) => (
                    <button
                      type="button"
                      class="icon-button modelcard__remove"
                      aria-label={`Remove ${model.id} from your models`}
                      onClick={() => remove()(model)}
                    >
                      <TrashIcon />
                    </button>
                  )}
                </Show>
              </li>
            );
          }}
        </For>
      </ul>
    </section>
  );
}
