/**
 * The page's side of the service worker (web/sw/sw.ts): registering it, handing it the assets this
 * page loaded before it took charge, and deleting what it keeps of the signed-in person.
 */

const USER_CACHE_PREFIX = "studio-user:";

/**
 * In built apps only (the dev server's modules change under the same names). Registered once the
 * page has loaded, or after a few seconds if images are still arriving: the worker then keeps what
 * the page shows from the next request on.
 */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !("serviceWorker" in navigator)) return;
  let registered = false;
  const register = () => {
    if (registered) return;
    registered = true;
    navigator.serviceWorker
      .register("/sw.js")
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => {
        const urls = performance
          .getEntriesByType("resource")
          .map((entry) => entry.name)
          .filter((url) => new URL(url).pathname.startsWith("/assets/"));
        registration.active?.postMessage({ type: "keep-assets", urls });
      })
      .catch((error: unknown) => console.warn("The service worker was not registered", error));
  };
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
  setTimeout(register, 3_000);
}

/**
 * Deletes the signed-in person's offline copies (gallery pages, thumbnails, who they are): on sign
 * out, and when the server says the session is over. The worker does the same when it sees the
 * sign-out go by; this also covers a page it doesn't control.
 */
export async function forgetOfflineData(): Promise<void> {
  if (!("caches" in window)) return;
  navigator.serviceWorker?.controller?.postMessage({ type: "forget-user-data" });
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(USER_CACHE_PREFIX)).map((name) => caches.delete(name)));
}
