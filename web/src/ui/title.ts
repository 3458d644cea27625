import { createEffect } from "solid-js";

/** Keeps `document.title` in step with the page: "Sessions · Image Studio". */
export function usePageTitle(title: () => string | undefined): void {
  createEffect(() => {
    const part = title();
    document.title = part ? `${part} · Image Studio` : "Image Studio";
  });
}
