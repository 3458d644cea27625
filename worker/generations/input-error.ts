import { PipelineError } from "../lib/retryable";

/** A generation's input (source, mask, reference) cannot be used: retrying will not help. */
export class InputUnavailableError extends PipelineError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = "InputUnavailableError";
  }
}
