import { For, type JSX, Match, Show, Switch } from "solid-js";
import { describedBy, FieldError } from "../ui/fields";
import type { Composer, FieldErrors } from "./composer";
import type { Feed, SchemaField } from "./schemaForm";

export type SchemaFieldsProps = {
  composer: Composer;
  /** Prefix of element ids. */
  id: string;
  fields: readonly SchemaField[];
  errors: FieldErrors;
  onChange: (path: string) => void;
  /** What feeds each file input now, in words ("the selected image", "none"). */
  feedLabel: (feed: Feed | undefined) => string;
};

const fieldId = (prefix: string, name: string) => `${prefix}-p-${name}`;

/** The model's own settings, one control per input of its schema. */
export function SchemaFields(props: SchemaFieldsProps): JSX.Element {
  return (
    <For each={props.fields}>
      {(field) => (
        <SchemaFieldControl
          composer={props.composer}
          id={fieldId(props.id, field.name)}
          field={field}
          error={props.errors[`params.${field.name}`]}
          onChange={() => props.onChange(`params.${field.name}`)}
          feedLabel={props.feedLabel}
        />
      )}
    </For>
  );
}

function SchemaFieldControl(props: {
  composer: Composer;
  id: string;
  field: SchemaField;
  error: string | undefined;
  onChange: () => void;
  feedLabel: (feed: Feed | undefined) => string;
}): JSX.Element {
  const value = () => props.composer.value(props.field.name);
  const set = (next: string | boolean) => {
    props.composer.setValue(props.field.name, next);
    props.onChange();
  };
  const bounds = () =>
    props.field.min !== undefined && props.field.max !== undefined ? `${props.field.min} to ${props.field.max}` : "";
  const hintId = () => (props.field.description || bounds() ? `${props.id}-hint` : undefined);
  const errorId = () => (props.error ? `${props.id}-error` : undefined);
  const described = () => describedBy(hintId(), errorId());
  const isDefault = () => !props.composer.touched().includes(props.field.name);

  return (
    <div
      class="field schemafield"
      classList={{ "field--wide": props.field.kind === "text" || props.field.kind === "file" }}
      data-field={props.field.name}
      data-kind={props.field.kind}
    >
      <Switch>
        <Match when={props.field.kind === "switch"}>
          <label class="switch" for={props.id}>
            <input
              id={props.id}
              class="switch__input"
              type="checkbox"
              role="switch"
              aria-checked={value() === true}
              checked={value() === true}
              onChange={(event) => set(event.currentTarget.checked)}
              aria-describedby={described()}
            />
            <span class="switch__track" aria-hidden="true">
              <span class="switch__thumb" />
            </span>
            <span class="switch__label">{props.field.label}</span>
          </label>
        </Match>
        <Match when={props.field.kind === "file"}>
          <span class="field__label">{props.field.label}</span>
          <p class="schemafield__feed" id={props.id}>
            {props.feedLabel(props.field.feed)}
          </p>
        </Match>
        <Match when={true}>
          <label class="field__label" for={props.id}>
            {props.field.label}
            <Show when={props.field.required}>
              <span class="schemafield__required"> (required)</span>
            </Show>
          </label>
          <Switch>
            <Match when={props.field.kind === "select"}>
              <select
                id={props.id}
                class="select"
                onChange={(event) => set(event.currentTarget.value)}
                aria-invalid={props.error ? "true" : undefined}
                aria-describedby={described()}
              >
                <Show when={props.field.default === undefined}>
                  <option value="" selected={value() === ""}>
                    Model default
                  </option>
                </Show>
                <For each={props.field.options}>
                  {(option) => (
                    <option value={String(option)} selected={String(option) === value()}>
                      {String(option)}
                    </option>
                  )}
                </For>
              </select>
            </Match>
            <Match when={props.field.kind === "slider"}>
              <div class="schemafield__slider">
                <input
                  class="range schemafield__range"
                  type="range"
                  min={props.field.min}
                  max={props.field.max}
                  step={props.field.step}
                  value={value() === "" ? String(props.field.min ?? 0) : String(value())}
                  onInput={(event) => set(event.currentTarget.value)}
                  aria-label={`${props.field.label} slider`}
                  aria-describedby={described()}
                />
                <input
                  id={props.id}
                  class="input schemafield__number"
                  type="number"
                  inputmode={props.field.integer ? "numeric" : "decimal"}
                  min={props.field.min}
                  max={props.field.max}
                  step={props.field.step}
                  placeholder={props.field.name === props.composer.selectedSummary()?.inputs.seed ? "Random" : ""}
                  value={String(value())}
                  onInput={(event) => set(event.currentTarget.value)}
                  aria-invalid={props.error ? "true" : undefined}
                  aria-describedby={described()}
                />
              </div>
            </Match>
            <Match when={props.field.kind === "number"}>
              <input
                id={props.id}
                class="input"
                type="number"
                inputmode={props.field.integer ? "numeric" : "decimal"}
                step={props.field.integer ? 1 : "any"}
                placeholder={
                  props.field.name === props.composer.selectedSummary()?.inputs.seed ? "Random" : "Model default"
                }
                value={String(value())}
                onInput={(event) => set(event.currentTarget.value)}
                aria-invalid={props.error ? "true" : undefined}
                aria-describedby={described()}
              />
            </Match>
            <Match when={true}>
              <input
                id={props.id}
                class="input"
                type="text"
                placeholder="Model default"
                value={String(value())}
                onInput={(event) => set(event.currentTarget.value)}
                aria-invalid={props.error ? "true" : undefined}
                aria-describedby={described()}
              />
            </Match>
          </Switch>
        </Match>
      </Switch>
      <Show when={hintId()}>
        <p class="field__hint" id={hintId()}>
          {props.field.description}
          <Show when={bounds() && props.field.kind !== "slider"}> ({bounds()})</Show>
          <Show when={isDefault() && props.field.default !== undefined && props.field.kind !== "file"}>
            <span class="schemafield__default"> Default: {String(props.field.default)}.</span>
          </Show>
        </p>
      </Show>
      <FieldError id={`${props.id}-error`} message={props.error} />
    </div>
  );
}
