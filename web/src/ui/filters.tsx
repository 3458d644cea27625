import "./filters.css";
import { createEffect, createSignal, For, type JSX, on, onCleanup, Show } from "solid-js";
import { CloseIcon, SearchIcon } from "./icons";

/**
 * Filter chips for lists (the gallery, sessions): each chip is a native control styled as a chip
 * (a `<select>` opens the phone's own picker), so every one is a 44 px target and wraps onto the
 * next line on a narrow screen instead of scrolling sideways.
 */
export function FilterChips(props: { label: string; children: JSX.Element }): JSX.Element {
  return (
    <fieldset class="filter-chips">
      <legend class="visually-hidden">{props.label}</legend>
      {props.children}
    </fieldset>
  );
}

export type ChipOption = { value: string; label: string };

/** A chip that picks one value (or none: `anyLabel`). */
export function SelectChip(props: {
  label: string;
  anyLabel: string;
  value: string | undefined;
  options: readonly ChipOption[];
  onChange: (value: string | undefined) => void;
  testId?: string;
}): JSX.Element {
  return (
    <label class="filter-chip" classList={{ "is-on": Boolean(props.value) }}>
      <span class="visually-hidden">{props.label}</span>
      <select
        class="filter-chip__select"
        data-testid={props.testId}
        onChange={(event) => props.onChange(event.currentTarget.value || undefined)}
      >
        <option value="" selected={!props.value}>
          {props.anyLabel}
        </option>
        <For each={props.options}>
          {(option) => (
            <option value={option.value} selected={option.value === props.value}>
              {option.label}
            </option>
          )}
        </For>
        <Show when={props.value && !props.options.some((option) => option.value === props.value)}>
          <option value={props.value} selected>
            {props.value}
          </option>
        </Show>
      </select>
    </label>
  );
}

/** A chip that is on or off ("Starred"). */
export function ToggleChip(props: {
  label: string;
  on: boolean;
  icon?: JSX.Element;
  onToggle: (on: boolean) => void;
}): JSX.Element {
  return (
    <button
      type="button"
      class="filter-chip filter-chip--toggle"
      classList={{ "is-on": props.on }}
      aria-pressed={props.on}
      onClick={() => props.onToggle(!props.on)}
    >
      {props.icon}
      <span>{props.label}</span>
    </button>
  );
}

export type DateRange = { from?: string; to?: string };

const DAY_MS = 86_400_000;
/** `YYYY-MM-DD` of a local day, `days` before today. */
export const isoDay = (daysAgo = 0): string => {
  const date = new Date(Date.now() - daysAgo * DAY_MS);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
};

const PRESETS = [
  { id: "today", label: "Today", days: 0 },
  { id: "week", label: "Last 7 days", days: 6 },
  { id: "month", label: "Last 30 days", days: 29 },
] as const;

/** A date-range chip: presets, or two dates of one's own ("Custom"). */
export function DateRangeChip(props: { value: DateRange; onChange: (value: DateRange) => void }): JSX.Element {
  const preset = () => {
    const { from, to } = props.value;
    if (!from && !to) return "";
    if (!to) {
      const match = PRESETS.find((p) => from === isoDay(p.days));
      if (match) return match.id;
    }
    return "custom";
  };
  const choose = (id: string) => {
    const match = PRESETS.find((p) => p.id === id);
    if (match) props.onChange({ from: isoDay(match.days) });
    else if (id === "custom") props.onChange({ from: props.value.from ?? isoDay(6), to: props.value.to ?? isoDay(0) });
    else props.onChange({});
  };
  return (
    <>
      <label class="filter-chip" classList={{ "is-on": preset() !== "" }}>
        <span class="visually-hidden">Date</span>
        <select class="filter-chip__select" data-testid="filter-date" onChange={(e) => choose(e.currentTarget.value)}>
          <option value="" selected={preset() === ""}>
            Any time
          </option>
          <For each={PRESETS}>
            {(p) => (
              <option value={p.id} selected={preset() === p.id}>
                {p.label}
              </option>
            )}
          </For>
          <option value="custom" selected={preset() === "custom"}>
            Custom dates
          </option>
        </select>
      </label>
      <Show when={preset() === "custom"}>
        <span class="filter-dates">
          <label class="filter-dates__field">
            <span>From</span>
            <input
              class="input filter-dates__input"
              type="date"
              value={props.value.from ?? ""}
              max={props.value.to}
              onChange={(e) => props.onChange({ ...props.value, from: e.currentTarget.value || undefined })}
            />
          </label>
          <label class="filter-dates__field">
            <span>To</span>
            <input
              class="input filter-dates__input"
              type="date"
              value={props.value.to ?? ""}
              min={props.value.from}
              onChange={(e) => props.onChange({ ...props.value, to: e.currentTarget.value || undefined })}
            />
          </label>
        </span>
      </Show>
    </>
  );
}

/** "Clear filters", shown while any is set. */
export function ClearFiltersChip(props: { onClear: () => void }): JSX.Element {
  return (
    <button type="button" class="filter-chip filter-chip--clear" onClick={() => props.onClear()}>
      <CloseIcon />
      <span>Clear</span>
    </button>
  );
}

/**
 * A list's search box (the gallery, sessions), searching as one types: the query is applied 250 ms
 * after the last keystroke, or at once on Enter. `value` is the query in force (in the URL); when it
 * changes from elsewhere (cleared, back button), the box follows. `children` are the toolbar's other
 * controls, beside the box.
 */
export function SearchToolbar(props: {
  id: string;
  label: string;
  placeholder: string;
  value: string | undefined;
  onSearch: (query: string | undefined) => void;
  children?: JSX.Element;
}): JSX.Element {
  const [draft, setDraft] = createSignal(props.value ?? "");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const apply = (value: string) => {
    if (timer !== undefined) clearTimeout(timer);
    props.onSearch(value.trim() || undefined);
  };
  onCleanup(() => timer !== undefined && clearTimeout(timer));
  // Only a query that is not what is typed (trailing spaces aside) replaces the typing.
  createEffect(
    on(
      () => props.value,
      (value) => {
        if ((value ?? "") !== draft().trim()) setDraft(value ?? "");
      },
      { defer: true },
    ),
  );
  return (
    <form
      class="toolbar"
      role="search"
      onSubmit={(event) => {
        event.preventDefault();
        apply(draft());
      }}
    >
      <div class="search">
        <label class="visually-hidden" for={props.id}>
          {props.label}
        </label>
        <SearchIcon class="icon search__icon" />
        <input
          id={props.id}
          class="input search__input"
          type="search"
          placeholder={props.placeholder}
          autocomplete="off"
          enterkeyhint="search"
          value={draft()}
          onInput={(event) => {
            const value = event.currentTarget.value;
            setDraft(value);
            if (timer !== undefined) clearTimeout(timer);
            timer = setTimeout(() => apply(value), 250);
          }}
        />
      </div>
      {props.children}
    </form>
  );
}
