/**
 * A model's input schema as Replicate publishes it: `latest_version.openapi_schema.components.schemas.Input`,
 * a Cog-generated OpenAPI 3.0 object schema whose enums are `allOf: [{ $ref }]` pointers to one
 * component each. Resolved here into a self-contained JSON Schema (enums inline, `x-order`, defaults,
 * bounds and descriptions kept) that the validator, the API and the web form all read.
 */
import type { InputSchema, SchemaProperty } from "@contract/api";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function componentsOf(openapi: Json): Json {
  const components = isObject(openapi.components) ? openapi.components : {};
  return isObject(components.schemas) ? components.schemas : {};
}

const REF_PREFIX = "#/components/schemas/";

/** Inlines `$ref`s and flattens `allOf`, depth-bounded so a cyclic document cannot hang us. */
function resolve(schema: Json, components: Json, depth = 0): Json {
  if (depth > 8) return {};
  let merged: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$ref" || key === "allOf") continue;
    if (key === "items" && isObject(value)) merged.items = resolve(value, components, depth + 1);
    else merged[key] = value;
  }
  const parts: Json[] = [];
  if (typeof schema.$ref === "string" && schema.$ref.startsWith(REF_PREFIX)) {
    const target = components[schema.$ref.slice(REF_PREFIX.length)];
    if (isObject(target)) parts.push(target);
  }
  if (Array.isArray(schema.allOf)) parts.push(...schema.allOf.filter(isObject));
  for (const part of parts) {
    const resolved = resolve(part, components, depth + 1);
    // The property's own keywords (default, description, x-order) win over the component's
    // ("An enumeration.", its title).
    const { title: _title, description, ...rest } = resolved;
    merged = {
      ...rest,
      ...(merged.description === undefined && description !== "An enumeration." ? { description } : {}),
      ...merged,
    };
  }
  return merged;
}

/** The order Cog gives (`x-order`), then the rest in document order. */
export function orderedProperties(schema: InputSchema): [string, SchemaProperty][] {
  const entries = Object.entries(schema.properties);
  const order = (property: SchemaProperty) =>
    typeof property["x-order"] === "number" ? property["x-order"] : Number.MAX_SAFE_INTEGER;
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => order(a.entry[1]) - order(b.entry[1]) || a.index - b.index)
    .map(({ entry }) => entry);
}

/** The resolved Input schema of a Cog OpenAPI document, or null when it has none. */
export function resolveInputSchema(openapi: unknown): InputSchema | null {
  if (!isObject(openapi)) return null;
  const components = componentsOf(openapi);
  const input = components.Input;
  if (!isObject(input) || !isObject(input.properties)) return null;
  const properties: Record<string, SchemaProperty> = {};
  for (const [name, property] of Object.entries(input.properties)) {
    if (isObject(property)) properties[name] = resolve(property, components) as SchemaProperty;
  }
  const required = Array.isArray(input.required)
    ? input.required.filter((name): name is string => typeof name === "string" && name in properties)
    : [];
  return { type: "object", properties, ...(required.length ? { required } : {}) };
}

/** The resolved Output schema (what a prediction's `output` holds), or null. */
export function resolveOutputSchema(openapi: unknown): Json | null {
  if (!isObject(openapi)) return null;
  const components = componentsOf(openapi);
  return isObject(components.Output) ? resolve(components.Output, components) : null;
}

/** A file input: a URI string, or a list of them. */
export function isFileProperty(property: SchemaProperty): boolean {
  if (property.type === "string" && property.format === "uri") return true;
  const items = property.items;
  return property.type === "array" && isObject(items) && items.type === "string" && items.format === "uri";
}
