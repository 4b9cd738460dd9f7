// Cross-origin isolation (ONNX Runtime's threads need SharedArrayBuffer) on hosts that send no
// COOP/COEP headers: registers coi-sw.js, which adds them from the next visit on. This visit is
// not reloaded for it: it runs ONNX Runtime on one thread, which on a small machine is as fast for
// a photo, and a reload would cost the visitor the work already under way (0.4-1.1 s to ready on
// 2 cores; docs/WEB.md, "Start-up and the first photo"). A host that sends the headers makes
// this a no-op.
(() => {
  if (self.crossOriginIsolated || !window.isSecureContext || !navigator.serviceWorker) return;
  navigator.serviceWorker.register('coi-sw.js')
    .catch((e) => console.warn('facekeys: no service worker for cross-origin isolation:', e));
})();
