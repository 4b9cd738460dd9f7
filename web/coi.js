// Registers coi-sw.js and reloads once when the page is not cross-origin isolated yet.
(() => {
  if (self.crossOriginIsolated || !window.isSecureContext || !navigator.serviceWorker) return;
  const key = 'facekeys-coi-reload';
  navigator.serviceWorker.register('coi-sw.js').then((reg) => {
    if (navigator.serviceWorker.controller) {
      if (!sessionStorage.getItem(key)) { sessionStorage.setItem(key, '1'); location.reload(); }
      return;
    }
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (!sessionStorage.getItem(key)) { sessionStorage.setItem(key, '1'); location.reload(); }
    });
  }, (e) => console.warn('facekeys: no service worker for cross-origin isolation:', e));
})();
