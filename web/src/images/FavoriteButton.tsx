import { createSignal, type JSX } from "solid-js";
import { errorMessage } from "../api/errors";
import { StarIcon } from "../ui/icons";
import { showToast } from "../ui/toast";
import { isFavorite, toggleFavorite } from "./favorites";

export type FavoriteButtonProps = {
  assetId: string;
  /** What the list or the session said. */
  favorite: boolean;
  /** `overlay`: on a thumbnail's corner; `bar`: a labelled button among other actions. */
  variant: "overlay" | "bar";
  class?: string;
};

/** A star: one tap adds the image to the favourites, another takes it out. */
export function FavoriteButton(props: FavoriteButtonProps): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const on = () => isFavorite(props.assetId, props.favorite);
  const toggle = async () => {
    if (busy()) return;
    setBusy(true);
    try {
      await toggleFavorite(props.assetId, props.favorite);
    } catch (error) {
      showToast({ message: `The star wasn't saved: ${errorMessage(error)}` });
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      class={`favorite favorite--${props.variant} ${props.variant === "bar" ? "button button--ghost button--small" : ""} ${props.class ?? ""}`}
      classList={{ "is-on": on() }}
      data-testid="favorite"
      aria-pressed={on()}
      aria-label={props.variant === "overlay" ? "Favourite" : undefined}
      onClick={(event) => {
        event.stopPropagation();
        void toggle();
      }}
    >
      <StarIcon filled={on()} />
      {props.variant === "bar" ? <span>{on() ? "Starred" : "Star"}</span> : null}
    </button>
  );
}
