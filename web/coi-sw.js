// Cross-origin isolation for hosts that cannot send headers (registered by coi.js): this service
// worker adds Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy to the page itself
// (navigations) and to worker scripts (ONNX Runtime's workers fail to start without them), and
// leaves every other request to the browser. A worker that answers every request with a response
// it built (npm coi-serviceworker did) costs Chromium its compiled-code cache for ONNX Runtime's
// 14 MB WebAssembly: every visit compiled it again, about 1.5 s more to ready (docs/WEB.md).
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.mode !== 'navigate' && req.destination !== 'worker' && req.destination !== 'sharedworker') return;
  event.respondWith(fetch(req).then((r) => {
    if (r.status === 0) return r;  // an opaque response cannot be rebuilt
    const headers = new Headers(r.headers);
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
    return new Response(r.body, { status: r.status, statusText: r.statusText, headers });
  }));
});
