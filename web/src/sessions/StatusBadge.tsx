import type { GenerationStatus } from "@contract/api";
import type { JSX } from "solid-js";

export const STATUS_LABEL: Record<GenerationStatus, string> = {
  queued: "Queued",
  starting: "Starting",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  canceled: "Canceled",
  timed_out: "Timed out",
};

export function StatusBadge(props: { status: GenerationStatus; class?: string }): JSX.Element {
  return (
    <span class={`badge badge--${props.status} ${props.class ?? ""}`}>
      <span class="badge__dot" aria-hidden="true" />
      {STATUS_LABEL[props.status]}
    </span>
  );
}

/** A generation's progress bar: determinate while running with a percentage, indeterminate before. */
export function ProgressBar(props: {
  status: GenerationStatus;
  progress: number;
  label?: string;
  class?: string;
}): JSX.Element {
  const percent = () => Math.round(props.progress * 100);
  const known = () => props.status === "running" && percent() > 0;
  return (
    <div
      class={`progress ${props.class ?? ""}`}
      classList={{ "progress--indeterminate": !known() }}
      role="progressbar"
      aria-label={props.label ?? "Generation progress"}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={known() ? percent() : undefined}
      aria-valuetext={known() ? `${percent()} percent` : STATUS_LABEL[props.status]}
    >
      <span class="progress__fill" style={{ width: `${Math.max(percent(), 2)}%` }} />
    </div>
  );
}
