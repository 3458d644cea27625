import "./welcome.css";
import { A, Navigate, useSearchParams } from "@solidjs/router";
import { For, type JSX, Show } from "solid-js";
import { useSession } from "../auth";
import { BranchIcon, ImageIcon, Logo, StackIcon } from "../ui/icons";
import { usePageTitle } from "../ui/title";

/** Made by the app's own renderer from these prompts (scripts/landing-examples.ts). */
const EXAMPLES = [
  { src: "/examples/lighthouse.webp", prompt: "a lighthouse on a cliff at dawn, volumetric light" },
  { src: "/examples/fox.webp", prompt: "a red fox in fresh snow" },
  { src: "/examples/island.webp", prompt: "a watercolor map of an island" },
  { src: "/examples/island-sunset.webp", prompt: "the island at sunset", from: "iterated from the map" },
] as const;

const STEPS = [
  {
    icon: ImageIcon,
    title: "Describe it",
    text: "Type a prompt, pick a model and its settings, and watch the image arrive.",
  },
  {
    icon: BranchIcon,
    title: "Iterate from any image",
    text: "Start the next step from any result or your own photo, with a mask or reference images. Every branch is kept as a tree of versions.",
  },
  {
    icon: StackIcon,
    title: "Keep everything",
    text: "Every image is stored for you, searchable later, and live on every device you have open.",
  },
] as const;

/**
 * The first page a signed-out visitor sees: what the app does, a few images it made, and the way
 * in. Someone already signed in goes straight to the Studio.
 */
export function WelcomePage(): JSX.Element {
  const session = useSession();
  const [params] = useSearchParams<{ deleted: string }>();
  usePageTitle(() => "Make images, iterate, keep everything");
  const signedIn = () => session.user.state === "ready" && session.user() !== null;

  return (
    <Show when={!signedIn()} fallback={<Navigate href="/" />}>
      <div class="welcome">
        <header class="welcome__bar">
          <span class="brand">
            <Logo />
            <span class="brand__name">Image Studio</span>
          </span>
          <A href="/sign-in" class="button button--ghost">
            Sign in
          </A>
        </header>

        <main id="main" class="welcome__main" tabindex="-1">
          <Show when={params.deleted}>
            <p class="notice" role="status">
              Your account and everything in it were deleted.
            </p>
          </Show>

          <section class="welcome__hero" aria-labelledby="welcome-heading">
            <h1 id="welcome-heading" class="welcome__heading">
              Make images from a prompt. Iterate on any of them. Keep every version.
            </h1>
            <p class="welcome__lead">
              Image Studio runs image models hosted on Replicate. Describe what you want, then take any result further:
              every output can be the start of the next one.
            </p>
            <div class="welcome__actions">
              <A href="/sign-up" class="button button--primary">
                Create an account
              </A>
              <A href="/sign-in" class="button">
                I have an account
              </A>
            </div>
          </section>

          <section class="welcome__section" aria-labelledby="welcome-examples">
            <h2 id="welcome-examples" class="welcome__subheading">
              From a prompt, and onwards
            </h2>
            <ul class="welcome__examples">
              <For each={EXAMPLES}>
                {(example) => (
                  <li>
                    <figure class="welcome__example">
                      <img src={example.src} alt="" width="384" height="384" loading="lazy" decoding="async" />
                      <figcaption>
                        <span class="welcome__prompt">“{example.prompt}”</span>
                        <Show when={"from" in example && example.from}>
                          {(from) => <span class="welcome__from">{from()}</span>}
                        </Show>
                      </figcaption>
                    </figure>
                  </li>
                )}
              </For>
            </ul>
          </section>

          <section class="welcome__section" aria-labelledby="welcome-how">
            <h2 id="welcome-how" class="welcome__subheading">
              How it works
            </h2>
            <ol class="welcome__steps">
              <For each={STEPS}>
                {(step) => (
                  <li class="welcome__step">
                    <step.icon class="icon welcome__step-icon" />
                    <h3 class="welcome__step-title">{step.title}</h3>
                    <p class="welcome__step-text">{step.text}</p>
                  </li>
                )}
              </For>
            </ol>
            <A href="/sign-up" class="button button--primary welcome__cta">
              Start making images
            </A>
          </section>
        </main>
      </div>
    </Show>
  );
}
