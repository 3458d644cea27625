/**
 * Opaque page cursors: a short JSON array, base64url-encoded. Only the server reads them; a cursor
 * that does not decode to the shape its list expects is a 400 naming `cursor`.
 */

import { toBase64Url } from "./ids";
import { ProblemError } from "./problem";

export const encodeCursor = (parts: readonly (string | number)[]): string =>
  toBase64Url(new TextEncoder().encode(JSON.stringify(parts)));

const invalidCursor = () =>
  new ProblemError(400, "The cursor is not valid.", {
    errors: [{ path: "cursor", message: "Not a cursor from a previous page" }],
  });

/** The parts of `cursor`, checked against the kinds its list writes (`"number"` / `"string"`, in order). */
export function decodeCursor<const Kinds extends readonly ("number" | "string")[]>(
  cursor: string,
  kinds: Kinds,
): { [K in keyof Kinds]: Kinds[K] extends "number" ? number : string } {
  let parsed: unknown;
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    parsed = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0))));
  } catch {
    throw invalidCursor();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== kinds.length ||
    !kinds.every(
      (kind, index) =>
        typeof parsed[index] === kind &&
        (kind === "string" || Number.isSafeInteger(parsed[index]) || Number.isFinite(parsed[index])),
    )
  ) {
    throw invalidCursor();
  }
  return parsed as { [K in keyof Kinds]: Kinds[K] extends "number" ? number : string };
}
