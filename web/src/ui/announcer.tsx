import { createRoot, createSignal, type JSX } from "solid-js";

/**
 * One polite live region for the whole app. `announce("Generation succeeded")` makes screen readers
 * read the sentence once, without moving focus. Repeating the same sentence is announced again.
 */
const region = createRoot(() => {
  const [message, setMessage] = createSignal("");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const announce = (text: string) => {
    if (timer !== undefined) clearTimeout(timer);
    // Clear first, then set on the next frame: assistive tech notices a change even for repeats.
    setMessage("");
    timer = setTimeout(() => setMessage(text), 60);
  };
  return { message, announce };
});

export const announce = region.announce;

export function LiveAnnouncer(): JSX.Element {
  return (
    <div class="visually-hidden" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">
      {region.message()}
    </div>
  );
}
