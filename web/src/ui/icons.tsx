import type { JSX } from "solid-js";

type IconProps = { class?: string };

function Svg(props: IconProps & { children: JSX.Element }): JSX.Element {
  return (
    <svg
      class={props.class ?? "icon"}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="1.8"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
    >
      {props.children}
    </svg>
  );
}

export const SparkleIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M12 3l1.8 4.9L18.7 9.7l-4.9 1.8L12 16.4l-1.8-4.9L5.3 9.7l4.9-1.8z" />
    <path d="M19 15l.8 2.2L22 18l-2.2.8L19 21l-.8-2.2L16 18l2.2-.8z" />
  </Svg>
);

export const StackIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <rect x="3" y="3" width="13" height="13" rx="2.5" />
    <path d="M8 21h10.5A2.5 2.5 0 0 0 21 18.5V8" />
  </Svg>
);

export const SignOutIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3" />
    <path d="M10 17l-5-5 5-5" />
    <path d="M5 12h11" />
  </Svg>
);

export const ArrowUpIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M12 19V5" />
    <path d="M6 11l6-6 6 6" />
  </Svg>
);

export const ChevronLeftIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M15 18l-6-6 6-6" />
  </Svg>
);

export const ImageIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <rect x="3" y="4" width="18" height="16" rx="2.5" />
    <circle cx="9" cy="10" r="1.8" />
    <path d="M21 16l-5.5-5.5L6 20" />
  </Svg>
);

export const SearchIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <circle cx="11" cy="11" r="6.5" />
    <path d="M20 20l-4.2-4.2" />
  </Svg>
);

export const Logo = (props: IconProps) => (
  <svg class={props.class ?? "logo"} viewBox="0 0 32 32" aria-hidden="true">
    <rect width="32" height="32" rx="9" fill="var(--accent)" />
    <path d="M8 22l5.5-7 4 5 2.5-3 4 5z" fill="var(--accent-ink)" />
    <circle cx="21" cy="11" r="2.6" fill="var(--accent-ink)" />
  </svg>
);

export const SlidersIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M4 7h10M18 7h2M4 17h4M12 17h8" />
    <circle cx="16" cy="7" r="2" />
    <circle cx="10" cy="17" r="2" />
  </Svg>
);

export const RetryIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M4 12a8 8 0 0 1 13.7-5.7L20 8.5" />
    <path d="M20 4v4.5h-4.5" />
    <path d="M20 12a8 8 0 0 1-13.7 5.7L4 15.5" />
    <path d="M4 20v-4.5h4.5" />
  </Svg>
);

export const ChevronRightIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M9 6l6 6-6 6" />
  </Svg>
);

export const PlusIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M12 5v14M5 12h14" />
  </Svg>
);

export const CloseIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M6 6l12 12M18 6L6 18" />
  </Svg>
);

export const CameraIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M4 8.5A2.5 2.5 0 0 1 6.5 6h1.8l1.4-2h4.6l1.4 2h1.8A2.5 2.5 0 0 1 20 8.5v9a2.5 2.5 0 0 1-2.5 2.5h-11A2.5 2.5 0 0 1 4 17.5z" />
    <circle cx="12" cy="13" r="3.5" />
  </Svg>
);

export const UploadIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M12 15V4" />
    <path d="M7 9l5-5 5 5" />
    <path d="M4 15v3.5A1.5 1.5 0 0 0 5.5 20h13a1.5 1.5 0 0 0 1.5-1.5V15" />
  </Svg>
);

export const TrashIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M4 7h16" />
    <path d="M9 7V4.5h6V7" />
    <path d="M6 7l1 12.5A1.5 1.5 0 0 0 8.5 21h7a1.5 1.5 0 0 0 1.5-1.5L18 7" />
  </Svg>
);

export const StopIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <circle cx="12" cy="12" r="8.5" />
    <rect x="9" y="9" width="6" height="6" rx="1" />
  </Svg>
);

export const DiceIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <rect x="4" y="4" width="16" height="16" rx="3" />
    <circle cx="9" cy="9" r="1" fill="currentColor" />
    <circle cx="15" cy="15" r="1" fill="currentColor" />
    <circle cx="15" cy="9" r="1" fill="currentColor" />
    <circle cx="9" cy="15" r="1" fill="currentColor" />
  </Svg>
);

export const CopyIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <rect x="8" y="8" width="12" height="12" rx="2.5" />
    <path d="M16 8V6.5A2.5 2.5 0 0 0 13.5 4h-7A2.5 2.5 0 0 0 4 6.5v7A2.5 2.5 0 0 0 6.5 16H8" />
  </Svg>
);

export const BrushIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M19.5 4.5l-8.8 8.8" />
    <path d="M10.7 13.3a3 3 0 0 0-4.2 0C5 14.8 6 18 4 19.5c3 .8 6.3.3 7.7-1.2a3 3 0 0 0-1-5z" />
  </Svg>
);

export const EraserIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M8.5 20H20" />
    <path d="M4.7 15.3l9.6-9.6a2 2 0 0 1 2.8 0l2.2 2.2a2 2 0 0 1 0 2.8L12 18l-2 2H8.5l-3.8-3.8a.6.6 0 0 1 0-.9z" />
    <path d="M9 11l6 6" />
  </Svg>
);

export const UndoIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M9 14L4 9l5-5" />
    <path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" />
  </Svg>
);

export const InvertIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <circle cx="12" cy="12" r="8.5" />
    <path d="M12 3.5v17a8.5 8.5 0 0 0 0-17z" fill="currentColor" />
  </Svg>
);

export const MaskIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <rect x="3" y="4" width="18" height="16" rx="2.5" />
    <path d="M8 15c1.5-4 6.5-4 8 0" stroke-dasharray="2 2" />
    <circle cx="12" cy="11" r="3" />
  </Svg>
);

export const BranchIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <circle cx="6" cy="5" r="2" />
    <circle cx="6" cy="19" r="2" />
    <circle cx="18" cy="8" r="2" />
    <path d="M6 7v10" />
    <path d="M18 10c0 4-6 3-11.2 7.5" />
  </Svg>
);

export const PaperclipIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M20 11.5l-7.8 7.8a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4L15 7" />
  </Svg>
);

export const DownloadIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M12 4v11" />
    <path d="M7 10l5 5 5-5" />
    <path d="M4 19.5h16" />
  </Svg>
);

export const GearIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <circle cx="12" cy="12" r="3" />
    <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
  </Svg>
);

export const GridIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <rect x="4" y="4" width="7" height="7" rx="1.5" />
    <rect x="13" y="4" width="7" height="7" rx="1.5" />
    <rect x="4" y="13" width="7" height="7" rx="1.5" />
    <rect x="13" y="13" width="7" height="7" rx="1.5" />
  </Svg>
);

/** A star; `filled` for a favourite. */
export const StarIcon = (props: IconProps & { filled?: boolean }) => (
  <Svg class={props.class}>
    <path
      d="M12 3.8l2.5 5.1 5.6.8-4.1 4 1 5.6-5-2.7-5 2.7 1-5.6-4.1-4 5.6-.8z"
      fill={props.filled ? "currentColor" : "none"}
    />
  </Svg>
);

export const PencilIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M4 20h4L19 9a2.8 2.8 0 0 0-4-4L4 16z" />
    <path d="M13.5 6.5l4 4" />
  </Svg>
);

export const MoreIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <circle cx="5.5" cy="12" r="1.2" fill="currentColor" />
    <circle cx="12" cy="12" r="1.2" fill="currentColor" />
    <circle cx="18.5" cy="12" r="1.2" fill="currentColor" />
  </Svg>
);

export const ZoomInIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <circle cx="11" cy="11" r="6.5" />
    <path d="M20 20l-4.2-4.2M11 8v6M8 11h6" />
  </Svg>
);

export const ExternalIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M14 4h6v6" />
    <path d="M20 4l-9 9" />
    <path d="M18 14v4.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 4 18.5v-11A1.5 1.5 0 0 1 5.5 6H10" />
  </Svg>
);

export const FilterIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M4 6h16M7 12h10M10 18h4" />
  </Svg>
);

export const FilmIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <rect x="3" y="4" width="18" height="16" rx="2" />
    <path d="M7 4v16M17 4v16M3 9h4M3 15h4M17 9h4M17 15h4" />
  </Svg>
);

export const ChartIcon = (props: IconProps) => (
  <Svg class={props.class}>
    <path d="M4 20V10M10 20V4M16 20v-7M3 20h18" />
  </Svg>
);
