/**
 * zod validation for request parts, answering with problem+json that names each field at fault.
 */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { type FieldError, ProblemError } from "../lib/problem";

export function toFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * JSON can carry strings that are not Unicode text (`"\ud800"`). D1 would store their bytes as
 * invalid UTF-8 and hand back U+FFFD in their place, so they are refused, keys included.
 */
function refuseUnpairedSurrogates(value: unknown, ctx: z.core.$RefinementCtx<unknown>, path: PropertyKey[] = []): void {
  if (typeof value === "string") {
    if (UNPAIRED_SURROGATE.test(value))
      ctx.addIssue({ code: "custom", path, message: "Not valid Unicode text (an unpaired surrogate)", input: value });
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) refuseUnpairedSurrogates(item, ctx, [...path, index]);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      refuseUnpairedSurrogates(key, ctx, [...path, key]);
      refuseUnpairedSurrogates(item, ctx, [...path, key]);
    }
  }
}

function invalidPart(target: keyof ValidationTargets, issues: readonly z.core.$ZodIssue[]): ProblemError {
  const errors = toFieldErrors(issues);
  return new ProblemError(
    400,
    `Invalid ${target === "json" ? "request body" : target}: ${errors[0]?.path} ${errors[0]?.message}`,
    { errors },
  );
}

export const validate = <Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) =>
  zValidator(
    target,
    schema.superRefine((value, ctx) => refuseUnpairedSurrogates(value, ctx)),
    (result) => {
      if (!result.success) throw invalidPart(target, result.error.issues);
    },
  );
