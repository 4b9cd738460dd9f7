// Cross-origin isolation for hosts that cannot send headers: this service worker adds
// Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy to the page itself (navigations)
// and to worker scripts (a worker of an isolated page must be isolated too), and leaves every
// other request to the browser, so same-origin files keep their HTTP cache
// entries and V8 its compiled-code cache for ONNX Runtime's WebAssembly.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const r0 = event.request;
  if (r0.mode !== 'navigate' && r0.destination !== 'worker' && r0.destination !== 'sharedworker') return;
  event.respondWith(fetch(event.request).then((r) => {
    if (r.status === 0) return r;
    const headers = new Headers(r.headers);
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
    return new Response(r.body, { status: r.status, statusText: r.statusText, headers });
  }));
});
