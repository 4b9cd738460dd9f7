// Cross-origin isolation (ONNX Runtime's threads need SharedArrayBuffer) on hosts that send no
// COOP/COEP headers: registers coi-sw.js, which adds them, and reloads the page once it controls
// the page. A host that sends the headers makes this a no-op. The reload happens at most once per
// tab (sessionStorage), so a browser that will not isolate the page anyway runs it on one thread
// instead of reloading forever.
(() => {
  if (self.crossOriginIsolated || !window.isSecureContext || !navigator.serviceWorker) return;
  const key = 'facekeys-coi-reload';
  const reloadOnce = () => {
    if (sessionStorage.getItem(key)) return;
    sessionStorage.setItem(key, '1');
    location.reload();
  };
  navigator.serviceWorker.register('coi-sw.js').then(() => {
    if (navigator.serviceWorker.controller) reloadOnce();  // installed before, yet this load is not isolated
    else navigator.serviceWorker.addEventListener('controllerchange', reloadOnce);
  }, (e) => console.warn('facekeys: no service worker for cross-origin isolation:', e));
})();
