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
