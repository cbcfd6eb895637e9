// Bedside's service worker: keeps the app shell (styles, icons, the offline page) so the
// installed app opens without a network, and never caches pages that may hold health data.
const SHELL = "bedside-shell-v1";
const SHELL_FILES = [
  "/offline.html",
  "/pkg/bedside.css",
  "/site.js",
  "/manifest.webmanifest",
  "/icons/icon.svg",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== SHELL).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages always come from the network (they may be personal); offline, show the shell page.
    event.respondWith(fetch(request).catch(() => caches.match("/offline.html")));
    return;
  }
  const path = new URL(request.url).pathname;
  if (SHELL_FILES.includes(path)) {
    // Shell files: answer from the cache at once, refresh it in the background.
    event.respondWith(
      caches.open(SHELL).then(async (cache) => {
        const cached = await cache.match(request);
        const fresh = fetch(request).then((response) => {
          if (response.ok) cache.put(request, response.clone());
          return response;
        });
        return cached || fresh;
      }),
    );
  }
});
