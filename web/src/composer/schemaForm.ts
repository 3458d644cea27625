/**
 * A model's input schema as form fields: enums become selects, bounded numbers a slider with a number
 * beside it, booleans switches, strings text; in the model's own order (`x-order`), with its defaults
 * and descriptions. The inputs the studio fills itself (the prompt, the source image, the mask, the
 * references) are shown as what feeds them, and rarely used settings are folded away.
 */
import type { GenerationParams, InputSchema, ModelSummary, SchemaProperty } from "@contract/api";

export type FieldKind = "select" | "slider" | "number" | "switch" | "text" | "file";
export type Feed = "image" | "mask" | "references";

export type SchemaField = {
  name: string;
  label: string;
  description: string;
  kind: FieldKind;
  /** Enum choices, as the schema types them (strings or numbers). */
  options: readonly (string | number | boolean)[];
  min: number | undefined;
  max: number | undefined;
  step: number;
  integer: boolean;
  default: unknown;
  required: boolean;
  /** `rare`: folded away under "More settings". */
  group: "main" | "rare";
  /** For file inputs: what the studio puts in it (nothing when it is none of ours). */
  feed: Feed | undefined;
};

/** A field's value as the form holds it: text as typed, a switch's state, a select's choice. */
export type FieldValue = string | boolean;

const titleOf = (name: string, property: SchemaProperty): string =>
  property.title ?? name.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());

const isFile = (property: SchemaProperty): boolean =>
  (property.type === "string" && property.format === "uri") ||
  (property.type === "array" &&
    typeof property.items === "object" &&
    property.items !== null &&
    "format" in property.items &&
    property.items.format === "uri");

const order = (property: SchemaProperty): number =>
  typeof property["x-order"] === "number" ? property["x-order"] : Number.MAX_SAFE_INTEGER;

/** The settings most people reach for: our own fields' counterparts, and short lists of choices. */
function isMain(name: string, property: SchemaProperty, model: ModelSummary, required: boolean): boolean {
  const { inputs } = model;
  const mapped = [
    inputs.width,
    inputs.height,
    inputs.aspectRatio,
    inputs.steps,
    inputs.guidance,
    inputs.strength,
    inputs.scheduler,
    inputs.seed,
    inputs.numOutputs,
  ];
  if (required || mapped.includes(name)) return true;
  return Array.isArray(property.enum) && property.enum.length <= 16 && !/safety|format|quality/.test(name);
}

export function fieldsOf(schema: InputSchema, model: ModelSummary): SchemaField[] {
  const required = new Set(schema.required ?? []);
  const { inputs } = model;
  const feeds: Record<string, Feed> = {};
  if (inputs.image) feeds[inputs.image] = "image";
  if (inputs.mask) feeds[inputs.mask] = "mask";
  if (inputs.references) feeds[inputs.references] = "references";
  const skipped = new Set([inputs.prompt, inputs.negativePrompt].filter((name): name is string => !!name));
  return Object.entries(schema.properties)
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => order(a.entry[1]) - order(b.entry[1]) || a.index - b.index)
    .flatMap(({ entry: [name, property] }): SchemaField[] => {
      if (skipped.has(name)) return [];
      const integer = property.type === "integer";
      const bounded = typeof property.minimum === "number" && typeof property.maximum === "number";
      const kind: FieldKind = isFile(property)
        ? "file"
        : Array.isArray(property.enum)
          ? "select"
          : property.type === "boolean"
            ? "switch"
            : integer || property.type === "number"
              ? bounded
                ? "slider"
                : "number"
              : "text";
      const span = bounded ? (property.maximum ?? 0) - (property.minimum ?? 0) : 0;
      return [
        {
          name,
          label: titleOf(name, property),
          description: property.description ?? "",
          kind,
          options: property.enum ?? [],
          min: property.minimum,
          max: property.maximum,
          step: integer ? 1 : span > 0 && span <= 2 ? 0.01 : 0.1,
          integer,
          default: property.default,
          required: required.has(name),
          group: kind === "file" || isMain(name, property, model, required.has(name)) ? "main" : "rare",
          feed: feeds[name],
        },
      ];
    });
}

/** What a field shows before it is touched. */
export function initialValue(field: SchemaField): FieldValue {
  if (field.kind === "switch") return field.default === true;
  return field.default === undefined || field.default === null ? "" : String(field.default);
}

/** A touched field's value as the model takes it; undefined: leave it to the model; "invalid": refuse. */
export function paramValue(field: SchemaField, value: FieldValue): string | number | boolean | undefined | "invalid" {
  if (field.kind === "switch") return value === true;
  const text = String(value).trim();
  if (text === "") return undefined;
  if (field.kind === "select") {
    return field.options.find((option) => String(option) === text) ?? "invalid";
  }
  if (field.kind === "slider" || field.kind === "number") {
    const number = Number(text);
    if (!Number.isFinite(number) || (field.integer && !Number.isInteger(number))) return "invalid";
    return number;
  }
  return text;
}

/** A stored generation's params as form values of its model (our field names mapped to the model's). */
export function valuesFromParams(
  params: GenerationParams,
  model: ModelSummary | undefined,
): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  const generic = model?.inputs ?? {};
  const rename: Record<string, string | undefined> = {
    width: generic.width,
    height: generic.height,
    steps: generic.steps,
    guidance: generic.guidance,
    strength: generic.strength,
    scheduler: generic.scheduler,
    seed: generic.seed,
    numOutputs: generic.numOutputs,
  };
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    const name = key in rename ? rename[key] : key;
    if (name) values[name] = typeof value === "boolean" ? value : String(value);
  }
  return values;
}
