import { type Accessor, createRoot, createSignal } from "solid-js";

/** A clock that ticks every 30 s, so relative times ("2 min ago") stay fresh without per-item timers. */
export const now: Accessor<number> = createRoot(() => {
  const [time, setTime] = createSignal(Date.now());
  setInterval(() => setTime(Date.now()), 30_000);
  return time;
});

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "just now", "5 min. ago", "yesterday", or a date for anything older than a week. */
export function formatRelative(iso: string, reference: number = now()): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return "";
  const seconds = Math.round((time - reference) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), "hour");
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), "day");
  return absolute.format(time);
}

export function formatAbsolute(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? "" : absolute.format(time);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${seconds} s`;
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 4 });
const cents = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumSignificantDigits: 2 });
/** Dollars, with the first digits that matter of a fraction of a cent ($0.00098). */
export const formatCost = (cost: number): string => (cost > 0 && cost < 0.001 ? cents.format(cost) : usd.format(cost));

/** `black-forest-labs/flux-schnell` → `flux-schnell`. */
export const modelName = (id: string): string => id.slice(id.indexOf("/") + 1) || id;

const whole = new Intl.NumberFormat("en-US");
/** `1049, "generation"` → "1,049 generations". */
export const plural = (count: number, one: string, many = `${one}s`): string =>
  `${whole.format(count)} ${count === 1 ? one : many}`;

/** The names people read for the parameters every model shares. */
const PARAM_LABELS: Record<string, string> = {
  width: "Width",
  height: "Height",
  steps: "Steps",
  guidance: "Guidance",
  strength: "Strength",
  scheduler: "Scheduler",
  seed: "Seed",
  numOutputs: "Outputs",
};

/** A generation parameter's name as a label: a model's own input reads from its name (`aspect_ratio`: "Aspect ratio"). */
export function paramLabel(name: string): string {
  const known = PARAM_LABELS[name];
  if (known) return known;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_\s-]+/g, " ")
    .trim()
    .toLowerCase();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : name;
}

/** A session title from the first prompt: its first line, cut at a word boundary. */
export function titleFromPrompt(prompt: string, max = 60): string {
  const line = prompt.trim().split(/\r?\n/, 1)[0]?.replace(/\s+/g, " ") ?? "";
  if (line.length <= max) return line;
  const cut = line.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:!?-]+$/, "")}…`;
}

/** 1536 → "1.5 KB", 3_400_000 → "3.2 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"] as const;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
