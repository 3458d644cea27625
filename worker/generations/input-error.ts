/** A generation's input (source, mask, reference) cannot be used: retrying will not help. */
export class InputUnavailableError extends Error {
  override name = "InputUnavailableError";
}
