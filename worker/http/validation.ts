/**
 * zod validation for request parts, answering with problem+json that names each field at fault.
 */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { ProblemError, type FieldError } from "../lib/problem";

export function toFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

export const validate = <Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) =>
  zValidator(target, schema, (result) => {
    if (!result.success) {
      const errors = toFieldErrors(result.error.issues);
      throw new ProblemError(400, `Invalid ${target === "json" ? "request body" : target}: ${errors[0]?.path} ${errors[0]?.message}`, {
        errors,
      });
    }
  });
