/**
 * From a generation request to the exact `input` a model receives: our fields mapped onto the model's
 * own names, model-specific params taken as they are, a seed picked when none was given (so every
 * generation records the seed it ran with), and the whole checked against the model's input schema
 * with a JSON Schema validator that runs on Workers without `eval`. Anything the model would not take
 * is refused with the field at fault; nothing is silently dropped.
 */
import { Validator } from "@cfworker/json-schema";
import {
  GENERIC_PARAMS,
  type GenerationParams,
  type GenericParam,
  type Pricing,
  type SchemaProperty,
} from "@contract/api";
import { randomSeed } from "../lib/ids";
import { type FieldError, ProblemError } from "../lib/problem";
import type { ModelDefinition } from "./registry";

/** The studio-filled file inputs of a call, resolved to URLs just before it is submitted. */
export type ModelCallFiles = {
  image?: string;
  mask?: string;
  references?: { name: string; list: boolean; max: number };
};

/**
 * What is sent to Replicate for a generation, minus the file URLs (they expire; made at submit time),
 * and how it is billed.
 */
export type ModelCall = {
  version: string | null;
  input: Record<string, unknown>;
  files: ModelCallFiles;
  pricing: Pricing | null;
};

/** URLs Replicate can fetch for the studio-filled inputs. */
export type ModelInputFiles = { image?: string; mask?: string; references?: string[] };

/** The prediction's `input`: the validated call with its files filled in. */
export function inputWithFiles(call: ModelCall, files: ModelInputFiles): Record<string, unknown> {
  const input = { ...call.input };
  if (call.files.image && files.image) input[call.files.image] = files.image;
  if (call.files.mask && files.mask) input[call.files.mask] = files.mask;
  const references = call.files.references;
  if (references && files.references?.length) {
    input[references.name] = references.list ? files.references.slice(0, references.max) : files.references[0];
  }
  return input;
}

export type CallRequest = { prompt: string; negativePrompt?: string | undefined; params: GenerationParams };
export type CallUses = { hasSource: boolean; hasMask: boolean; references: number };

const GENERIC: ReadonlySet<string> = new Set(GENERIC_PARAMS);

const LABELS: Record<GenericParam, string> = {
  width: "width",
  height: "height",
  steps: "steps setting",
  guidance: "guidance setting",
  strength: "strength setting",
  scheduler: "scheduler",
  seed: "seed",
  numOutputs: "number of outputs",
};

/** Aspect ratios within this (log) distance of width:height count as the same shape (1344×768 is 16:9). */
const ASPECT_TOLERANCE = 0.05;

function nearestAspectRatio(width: number, height: number, choices: readonly unknown[]): string | null {
  const target = Math.log(width / height);
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const choice of choices) {
    if (typeof choice !== "string") continue;
    const [w, h] = choice.split(":").map(Number);
    if (!w || !h) continue;
    const distance = Math.abs(Math.log(w / h) - target);
    if (distance < bestDistance) {
      best = choice;
      bestDistance = distance;
    }
  }
  return bestDistance <= ASPECT_TOLERANCE ? best : null;
}

/** Placeholders for the files the studio will fill, so `required` and `format` are checked too. */
const PLACEHOLDER_URL = "https://files.invalid/placeholder";

const formatList = (values: readonly unknown[]): string => values.map((value) => String(value)).join(", ");

function messageFor(keyword: string, property: SchemaProperty | undefined, fallback: string): string {
  switch (keyword) {
    case "minimum":
      return `Use ${property?.minimum} or more`;
    case "maximum":
      return `Use ${property?.maximum} or less`;
    case "enum":
      return `Use one of: ${formatList(property?.enum ?? [])}`;
    case "type":
      return property?.type === "integer" ? "Use a whole number" : `Use a ${property?.type ?? "different"} value`;
    case "format":
      return property?.format === "uri" ? "Use a URL" : `Use the ${property?.format} format`;
    case "maxItems":
      return `Use at most ${property?.maxItems}`;
    default:
      return fallback;
  }
}

/**
 * The model call for a request, and the params to store (with the seed it will run with). Throws a
 * 400 ProblemError listing every field at fault.
 */
export function prepareModelCall(
  model: ModelDefinition,
  request: CallRequest,
  uses: CallUses,
): { call: ModelCall; params: GenerationParams } {
  const names = model.inputs;
  const properties = model.schema?.properties;
  const errors: FieldError[] = [];
  const input: Record<string, unknown> = { ...model.defaultInput };
  /** Where each input came from in the request, to name the field at fault. */
  const origin = new Map<string, string>();
  const set = (name: string, value: unknown, path: string) => {
    const earlier = origin.get(name);
    if (earlier && earlier !== path) {
      errors.push({ path, message: `Set twice: as ${earlier} and as ${path}; keep one` });
      return;
    }
    input[name] = value;
    origin.set(name, path);
  };

  if (names.prompt) set(names.prompt, request.prompt, "prompt");
  else errors.push({ path: "prompt", message: `${model.id} takes no prompt` });
  if (request.negativePrompt) {
    if (names.negativePrompt) set(names.negativePrompt, request.negativePrompt, "negativePrompt");
    else errors.push({ path: "negativePrompt", message: `${model.id} has no negative prompt; leave it empty` });
  }

  const reserved = new Set(
    [names.prompt, names.negativePrompt, names.image, names.mask, names.references].filter(
      (name): name is string => !!name,
    ),
  );
  const params = request.params;
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    const path = `params.${key}`;
    if (GENERIC.has(key)) {
      const field = key as GenericParam;
      const mapped = names[field];
      if (mapped) set(mapped, value, path);
      else if ((field === "width" || field === "height") && names.aspectRatio) {
        if (field === "height") continue; // Judged together with the width.
        const choices = properties?.[names.aspectRatio]?.enum ?? [];
        const { width, height } = params;
        const ratio =
          typeof width === "number" && typeof height === "number" ? nearestAspectRatio(width, height, choices) : null;
        if (ratio) set(names.aspectRatio, ratio, path);
        else
          errors.push({
            path,
            message: `${model.id} is sized by ${names.aspectRatio}${choices.length ? ` (${formatList(choices)})` : ""}, not by width and height`,
          });
      } else if (field === "numOutputs" && value === 1) {
        // One output is what a model without the setting makes.
      } else if (field === "numOutputs") {
        errors.push({ path, message: "This model makes one output per run" });
      } else {
        errors.push({ path, message: `${model.id} has no ${LABELS[field]}` });
      }
      continue;
    }
    if (reserved.has(key)) {
      errors.push({
        path,
        message: "Set by the studio: from prompt, negativePrompt, sourceAssetId, maskAssetId or referenceImageIds",
      });
      continue;
    }
    if (properties && !(key in properties)) {
      errors.push({ path, message: `${model.id} has no input named ${key}` });
      continue;
    }
    set(key, value, path);
  }

  // A seed the server picks is a seed the generation can be reproduced with.
  const stored: GenerationParams = { ...params };
  if (names.seed && input[names.seed] === undefined) {
    const bounds = properties?.[names.seed];
    const min = Math.max(0, bounds?.minimum ?? 0);
    const max = Math.min(2 ** 32 - 1, bounds?.maximum ?? 2 ** 32 - 1);
    const seed = min + (randomSeed() % (max - min + 1));
    input[names.seed] = seed;
    origin.set(names.seed, "params.seed");
    stored.seed = seed;
  }

  if (model.schema && errors.length === 0) {
    const candidate: Record<string, unknown> = { ...input };
    const fileOrigins: [string | undefined, boolean, string][] = [
      [names.image, uses.hasSource, "sourceAssetId"],
      [names.mask, uses.hasMask, "maskAssetId"],
      [names.references, uses.references > 0, "referenceImageIds"],
    ];
    for (const [name, present, path] of fileOrigins) {
      if (!name) continue;
      origin.set(name, path);
      if (present) {
        candidate[name] = properties?.[name]?.type === "array" ? [PLACEHOLDER_URL] : PLACEHOLDER_URL;
      }
    }
    errors.push(...schemaErrors(model, candidate, origin));
  }

  if (errors.length > 0) {
    const [first] = errors;
    throw new ProblemError(400, `${model.id} cannot run this: ${first?.path} ${first?.message}.`, { errors });
  }
  const references = names.references
    ? {
        name: names.references,
        list: properties?.[names.references]?.type === "array" || model.referencesList === true,
        max: model.limits.references,
      }
    : undefined;
  return {
    call: {
      version: model.official ? null : model.version,
      input,
      files: {
        ...(names.image ? { image: names.image } : {}),
        ...(names.mask ? { mask: names.mask } : {}),
        ...(references ? { references } : {}),
      },
      pricing: model.pricing,
    },
    params: stored,
  };
}

/** Enough for the catalog and the models people added, without growing with every refresh. */
const MAX_CACHED_VALIDATORS = 64;

/**
 * Validators by `schemaKey`: a schema is read afresh from D1 on every request, so a cache keyed on
 * the object itself would build a validator (a deep copy and a compile) each time.
 */
const validators = new Map<string, Validator>();

function validatorFor(schemaKey: string | null, schema: NonNullable<ModelDefinition["schema"]>): Validator {
  const cached = schemaKey ? validators.get(schemaKey) : undefined;
  if (cached && schemaKey) {
    // Most recently used last, so the least recently used is evicted first.
    validators.delete(schemaKey);
    validators.set(schemaKey, cached);
    return cached;
  }
  // The validator annotates the schema it is given: hand it a copy.
  const validator = new Validator(
    structuredClone(schema) as ConstructorParameters<typeof Validator>[0],
    "2019-09",
    false,
  );
  if (schemaKey) {
    validators.set(schemaKey, validator);
    for (const key of validators.keys()) {
      if (validators.size <= MAX_CACHED_VALIDATORS) break;
      validators.delete(key);
    }
  }
  return validator;
}

function schemaErrors(
  model: ModelDefinition,
  input: Record<string, unknown>,
  origin: Map<string, string>,
): FieldError[] {
  const schema = model.schema;
  if (!schema) return [];
  const validator = validatorFor(model.schemaKey, schema);
  const result = validator.validate(input);
  if (result.valid) return [];
  const found = new Map<string, FieldError>();
  for (const error of result.errors) {
    let name: string | undefined;
    if (error.keyword === "required") name = /"([^"]+)"/.exec(error.error)?.[1];
    else name = /^#\/([^/]+)/.exec(error.instanceLocation)?.[1];
    if (!name || error.keyword === "properties") continue;
    const path = origin.get(name) ?? `params.${name}`;
    if (found.has(path)) continue;
    const property = schema.properties[name];
    const message =
      error.keyword === "required"
        ? path === "sourceAssetId"
          ? `${model.id} needs an image to start from`
          : path.startsWith("params.")
            ? `${model.id} needs ${name}`
            : `Required by ${model.id}`
        : messageFor(error.keyword, property, error.error);
    found.set(path, { path, message });
  }
  return [...found.values()];
}

/** How many outputs a call will make (for per-output prices). */
export function outputCountOf(model: ModelDefinition, input: Record<string, unknown>): number {
  const name = model.inputs.numOutputs;
  if (!name) return 1;
  const value = input[name] ?? model.schema?.properties[name]?.default;
  return typeof value === "number" && value > 0 ? Math.floor(value) : 1;
}
