/**
 * The service worker: the app opens offline, and the gallery browses offline with what was seen.
 *
 * - The app shell (the page and its hashed assets) is kept in one cache, shared by everyone.
 * - What belongs to the signed-in person (who they are, gallery pages, viewed thumbnails) is kept in
 *   a cache named after them. The worker learns who that is from `GET /api/me` answers; a different
 *   person, a 401, signing in, up or out, or deleting the account deletes every person's cache, so
 *   nothing of one person is ever served to the next one. The page also deletes them when it signs out.
 * - Any other API call goes straight to the network, uncached.
 */

// `self` is typed as a plain worker by the WebWorker library; this is a service worker.
const sw = self as unknown as ServiceWorkerGlobalScope;

const SHELL_CACHE = "studio-shell-v1";
const USER_CACHE_PREFIX = "studio-user:";
/** Thumbnails and gallery pages kept per person; the oldest go first past this. */
const MAX_USER_ENTRIES = 3_000;
const SHELL_PAGE = "/index.html";

const THUMBNAIL = /^\/api\/assets\/[^/]+\/thumbnail$/;
const OFFLINE_READS = new Set(["/api/me", "/api/images"]);
const AUTH_CHANGES = new Set(["/api/auth/login", "/api/auth/signup", "/api/auth/logout"]);

sw.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      await cacheShell().catch(() => undefined);
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith("studio-shell-") && name !== SHELL_CACHE)
          .map((name) => caches.delete(name)),
      );
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener("message", (event) => {
  const message: unknown = event.data;
  if (!isRecord(message)) return;
  if (message.type === "forget-user-data") event.waitUntil(forgetUsers());
  // The page's own scripts and styles, loaded before this worker took charge of it.
  if (message.type === "keep-assets" && Array.isArray(message.urls)) {
    const urls = message.urls.filter((url): url is string => typeof url === "string" && isOwnAsset(url));
    event.waitUntil(keepAssets(urls));
  }
});

/** The page and the assets it names, so the app opens offline. */
async function cacheShell(): Promise<void> {
  const shell = await caches.open(SHELL_CACHE);
  const response = await fetch(new Request("/", { cache: "reload" }));
  if (!response.ok) return;
  const html = await response.clone().text();
  await shell.put(SHELL_PAGE, response);
  const named = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1] ?? "");
  await keepAssets(named.filter(isOwnAsset));
}

async function keepAssets(urls: string[]): Promise<void> {
  const shell = await caches.open(SHELL_CACHE);
  for (const url of new Set(urls)) {
    if (await shell.match(url)) continue;
    const response = await fetch(url).catch(() => undefined);
    if (response?.ok) await shell.put(url, response);
  }
}

function isOwnAsset(url: string): boolean {
  const parsed = new URL(url, sw.location.origin);
  return parsed.origin === sw.location.origin && parsed.pathname.startsWith("/assets/");
}

sw.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;

  if (request.method !== "GET") {
    const leaving = request.method === "DELETE" && url.pathname === "/api/me";
    if (AUTH_CHANGES.has(url.pathname) || leaving) event.respondWith(afterAuthChange(request));
    return;
  }
  if (request.mode === "navigate") return event.respondWith(page(request));
  if (url.pathname.startsWith("/assets/")) return event.respondWith(immutableAsset(request));
  if (url.pathname === "/api/me") return event.respondWith(me(request));
  if (THUMBNAIL.test(url.pathname)) return event.respondWith(thumbnail(event));
  if (OFFLINE_READS.has(url.pathname)) return event.respondWith(networkFirst(event));
});

/** Pages: the network, else the cached shell (the app routes on its own). */
async function page(request: Request): Promise<Response> {
  const shell = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.headers.get("Content-Type")?.includes("text/html")) {
      await shell.put(SHELL_PAGE, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await shell.match(SHELL_PAGE);
    if (cached) return cached;
    throw error;
  }
}

/** Hashed build output never changes under its name. */
async function immutableAsset(request: Request): Promise<Response> {
  const shell = await caches.open(SHELL_CACHE);
  const cached = await shell.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await shell.put(request, response.clone());
  return response;
}

/** The `/api/me` answer on its way, if any: what comes back with it belongs to whoever it names. */
let identifying: Promise<unknown> | undefined;

/** Who is signed in: from the network when it answers, and the caches follow. */
function me(request: Request): Promise<Response> {
  const answer = learnWhoIsSignedIn(request);
  identifying = answer.catch(() => undefined);
  return answer;
}

async function learnWhoIsSignedIn(request: Request): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(request);
  } catch (error) {
    const cache = await currentUserCache();
    const cached = await cache?.match(request);
    if (cached) return cached;
    throw error;
  }
  if (response.status === 401) {
    await forgetUsers();
  } else if (response.ok) {
    const user: unknown = await response
      .clone()
      .json()
      .catch(() => null);
    if (isRecord(user) && typeof user.id === "string") {
      await forgetUsers(user.id);
      await (await caches.open(USER_CACHE_PREFIX + user.id)).put(request, response.clone());
    }
  }
  return response;
}

/**
 * A thumbnail never changes: the cached copy, else the network's, kept for next time (after it is
 * answered, so keeping it costs the page nothing).
 */
async function thumbnail(event: FetchEvent): Promise<Response> {
  const request = event.request;
  const since = forgotten;
  const cached = await (await currentUserCache())?.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) event.waitUntil(keepForCurrentUser(request, response.clone(), since));
  return response;
}

/** Lists change: the network's answer (kept once answered), else the last one seen (offline). */
async function networkFirst(event: FetchEvent): Promise<Response> {
  const request = event.request;
  const since = forgotten;
  try {
    const response = await fetch(request);
    if (response.ok) event.waitUntil(keepForCurrentUser(request, response.clone(), since));
    return response;
  } catch (error) {
    const cached = await (await currentUserCache())?.match(request);
    if (cached) return cached;
    throw error;
  }
}

/**
 * Kept for the person signed in, once `/api/me` (often still on its way) has said who that is;
 * dropped if someone's cache was deleted meanwhile (signed out, or another person): then whose
 * answer this is can't be told.
 */
async function keepForCurrentUser(request: Request, response: Response, since: number): Promise<void> {
  await identifying;
  if (forgotten !== since) return;
  const cache = await currentUserCache();
  if (cache) await keep(cache, request, response);
}

async function afterAuthChange(request: Request): Promise<Response> {
  const response = await fetch(request);
  if (response.ok || response.status === 401) await forgetUsers();
  return response;
}

/** The signed-in person's cache: the one person cache left (`me` deletes the others). */
async function currentUserCache(): Promise<Cache | undefined> {
  const name = (await caches.keys()).find((key) => key.startsWith(USER_CACHE_PREFIX));
  return name ? caches.open(name) : undefined;
}

/** How many times a person's cache was deleted (or everyone's asked to be): answers on their way then are not kept. */
let forgotten = 0;

/** Deletes every person's cache but `keepUserId`'s. */
async function forgetUsers(keepUserId?: string): Promise<void> {
  const keepName = keepUserId ? USER_CACHE_PREFIX + keepUserId : undefined;
  const names = (await caches.keys()).filter((name) => name.startsWith(USER_CACHE_PREFIX) && name !== keepName);
  if (!keepUserId || names.length > 0) forgotten += 1;
  await Promise.all(names.map((name) => caches.delete(name)));
}

let puts = 0;
async function keep(cache: Cache, request: Request, response: Response): Promise<void> {
  await cache.put(request, response);
  puts += 1;
  if (puts % 100 !== 0) return;
  const keys = await cache.keys();
  const excess = keys.length - MAX_USER_ENTRIES;
  // Oldest first: keys come back in the order they were stored.
  for (const key of keys.slice(0, Math.max(0, excess))) await cache.delete(key);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
