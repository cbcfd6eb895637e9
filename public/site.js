// Registers the service worker that caches the app shell, so Bedside can be installed and
// opens offline. Public pages need nothing else from JavaScript.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch((error) => {
      console.warn("Bedside: service worker registration failed", error);
    });
  });
}
