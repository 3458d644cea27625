/**
 * The models this emulator knows: the built-in ones (catalog.ts) and any public model configured at
 * run time over the control API (`POST /__control/models`), so a test or a developer can add a model
 * by `owner/name` and run it like any other. Configured models are cleared by a reset.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { type CatalogModel, CATALOG as CURATED, EXTRA_MODELS, type FieldSpec, type ModelBehaviour } from "./catalog";

const described = { description: z.string().max(2000).default(""), required: z.boolean().optional() };

const fieldSpecSchema: z.ZodType<FieldSpec> = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("string"), default: z.string().optional(), ...described }).strict(),
  z.object({ kind: z.literal("uri"), ...described }).strict(),
  z.object({ kind: z.literal("uri-list"), maxItems: z.number().int().positive().optional(), ...described }).strict(),
  z
    .object({
      kind: z.enum(["integer", "number"]),
      default: z.number().optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
      ...described,
    })
    .strict(),
  z.object({ kind: z.literal("boolean"), default: z.boolean().optional(), ...described }).strict(),
  z
    .object({
      kind: z.literal("enum"),
      values: z.union([z.array(z.string()).min(1), z.array(z.number()).min(1)]),
      default: z.union([z.string(), z.number()]).optional(),
      ...described,
    })
    .strict(),
]);

const DEFAULT_INPUTS: Record<string, FieldSpec> = {
  prompt: { kind: "string", description: "Input prompt", required: true },
  seed: { kind: "integer", description: "Random seed. Leave blank to randomize the seed" },
};

export const modelConfigSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/, "Use owner/name"),
    /** Official models run by name; the others need a version. */
    official: z.boolean().default(false),
    kind: z.enum(["image", "video"]).default("image"),
    description: z.string().max(2000).default(""),
    versionId: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    /** Cog input fields, in `x-order` order; default: a required prompt and a seed. */
    inputs: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/), fieldSpecSchema).optional(),
    output: z.enum(["array", "single"]).default("array"),
  })
  .strict();
export type ModelConfig = z.input<typeof modelConfigSchema>;

const IMAGE_INPUTS = ["image", "input_image", "start_image", "first_frame_image", "init_image"];

/** How a configured model runs, read from its inputs' names. */
function behaviourOf(inputs: Readonly<Record<string, FieldSpec>>, kind: "image" | "video"): ModelBehaviour {
  const steps = inputs.num_inference_steps;
  return {
    setupMs: 200,
    stepMs: kind === "video" ? 80 : 50,
    ...(steps?.kind === "integer" ? { stepsInput: "num_inference_steps" } : { fixedSteps: 20 }),
    imageInput: IMAGE_INPUTS.find((name) => inputs[name]?.kind === "uri"),
    ...(inputs.mask?.kind === "uri" ? { maskInput: "mask" } : {}),
    defaultFormat: kind === "video" ? "mp4" : "webp",
    ...(kind === "video" ? { videoSeconds: 5, ...(inputs.duration ? { durationInput: "duration" } : {}) } : {}),
  };
}

export class ModelRegistry {
  private readonly configured = new Map<string, CatalogModel>();

  all(): CatalogModel[] {
    return [...CURATED, ...EXTRA_MODELS, ...this.configured.values()];
  }

  find(owner: string, name: string): CatalogModel | undefined {
    return this.all().find((model) => model.owner === owner && model.name === name);
  }

  findByVersion(versionId: string): CatalogModel | undefined {
    return this.all().find((model) => model.versionId === versionId || model.olderVersionIds.includes(versionId));
  }

  /** Adds (or replaces) a configured model; built-in ones cannot be replaced. */
  configure(input: z.output<typeof modelConfigSchema>): CatalogModel {
    const [owner = "", name = ""] = input.id.split("/");
    const builtIn = [...CURATED, ...EXTRA_MODELS].some((model) => model.id === input.id);
    if (builtIn) throw new Error(`${input.id} is built in`);
    const inputs = input.inputs ?? DEFAULT_INPUTS;
    const model: CatalogModel = {
      owner,
      name,
      id: input.id,
      description: input.description,
      official: input.official,
      kind: input.kind,
      versionId: input.versionId ?? createHash("sha256").update(input.id).digest("hex"),
      olderVersionIds: [],
      versionCreatedAt: "2025-01-01T00:00:00.000Z",
      createdAt: "2025-01-01T00:00:00.000Z",
      inputs,
      output: input.kind === "video" ? "single" : input.output,
      behaviour: behaviourOf(inputs, input.kind),
    };
    this.configured.set(model.id, model);
    return model;
  }

  clear(): void {
    this.configured.clear();
  }
}
