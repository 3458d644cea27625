/**
 * Validates a prediction's `input` against the model's Cog-style OpenAPI schema (the same document
 * served by `GET /v1/models/...`), producing Replicate's 422 `invalid_fields` (gojsonschema wording,
 * `replicate-api.md` §7.1). Supports what Cog emits: required, type, minimum/maximum, format uri,
 * enums through `allOf: [{ $ref }]`, array items.
 */
import { isRecord } from "./util";

export interface InvalidField {
  type: string;
  field: string;
  description: string;
}

type Schema = Record<string, unknown>;

function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function resolveRef(ref: string, root: Schema): Schema | undefined {
  const prefix = "#/components/schemas/";
  if (!ref.startsWith(prefix)) return undefined;
  const components = isRecord(root.components) ? root.components : undefined;
  const schemas = components && isRecord(components.schemas) ? components.schemas : undefined;
  const target = schemas?.[ref.slice(prefix.length)];
  return isRecord(target) ? target : undefined;
}

/** Flattens `allOf`/`$ref` into one schema (enough for Cog's enum pattern). */
function effectiveSchema(schema: Schema, root: Schema): Schema {
  let merged: Schema = { ...schema };
  if (typeof schema.$ref === "string") {
    const target = resolveRef(schema.$ref, root);
    if (target) merged = { ...effectiveSchema(target, root), ...merged };
    delete merged.$ref;
  }
  if (Array.isArray(schema.allOf)) {
    for (const part of schema.allOf) {
      if (isRecord(part)) merged = { ...effectiveSchema(part, root), ...merged };
    }
    delete merged.allOf;
  }
  return merged;
}

function formatAllowed(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join(", ");
}

function isUri(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol.length > 1;
  } catch {
    return false;
  }
}

function validateValue(
  value: unknown,
  rawSchema: Schema,
  root: Schema,
  field: string,
  name: string,
  errors: InvalidField[],
): void {
  const schema = effectiveSchema(rawSchema, root);
  const given = jsonTypeOf(value);
  if (typeof schema.type === "string") {
    const expected = schema.type;
    const typeOk = expected === "number" ? given === "number" || given === "integer" : given === expected;
    if (!typeOk) {
      errors.push({ type: "invalid_type", field, description: `Invalid type. Expected: ${expected}, given: ${given}` });
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => allowed === value)) {
    errors.push({
      type: "enum",
      field,
      description: `${name} must be one of the following: ${formatAllowed(schema.enum)}`,
    });
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) {
      errors.push({ type: "number_gte", field, description: `Must be greater than or equal to ${schema.minimum}` });
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
      errors.push({ type: "number_lte", field, description: `Must be less than or equal to ${schema.maximum}` });
    }
  }
  if (typeof value === "string" && schema.format === "uri" && !isUri(value)) {
    errors.push({ type: "format", field, description: "Does not match format 'uri'" });
  }
  if (Array.isArray(value) && isRecord(schema.items)) {
    const items = schema.items;
    for (const [index, item] of value.entries()) {
      validateValue(item, items, root, `${field}.${index}`, String(index), errors);
    }
  }
}

/** Returns the problems with `input` (empty = valid). Unknown input keys are ignored, as Cog does. */
export function validateInput(input: Record<string, unknown>, openApiSchema: Schema): InvalidField[] {
  const errors: InvalidField[] = [];
  const components = isRecord(openApiSchema.components) ? openApiSchema.components : {};
  const schemas = isRecord(components.schemas) ? components.schemas : {};
  const inputSchema = isRecord(schemas.Input) ? schemas.Input : {};
  const properties = isRecord(inputSchema.properties) ? inputSchema.properties : {};
  const required = Array.isArray(inputSchema.required) ? inputSchema.required : [];
  for (const name of required) {
    if (typeof name === "string" && (input[name] === undefined || input[name] === null)) {
      errors.push({ type: "required", field: "input", description: `${name} is required` });
    }
  }
  for (const [name, propertySchema] of Object.entries(properties)) {
    const value = input[name];
    if (value === undefined || value === null || !isRecord(propertySchema)) continue;
    validateValue(value, propertySchema, openApiSchema, `input.${name}`, name, errors);
  }
  return errors;
}

/** Replicate's 422 body for input problems. */
export function validationProblem(errors: readonly InvalidField[]): Record<string, unknown> {
  return {
    title: "Input validation failed",
    status: 422,
    detail: errors.map((error) => `- ${error.field}: ${error.description}\n`).join(""),
    invalid_fields: errors,
  };
}
