// Shared set-up for the browser tests: serve dist/ on 127.0.0.1 with
// `python3 -m http.server` (no special headers: cross-origin isolation comes
// from coi-serviceworker, as on GitHub Pages), drive Debian's Chromium headless
// with playwright-core, and record every request the page makes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = process.env.FACEKEYS_DIST_DIR || path.join(ROOT, 'dist');
export const DATA = process.env.FACEKEYS_DATA_DIR || path.resolve(ROOT, '../shared/data');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Flags verified on these machines (docs/WEB.md): headless as root, no GPU (WebGL2 via SwiftShader).
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

export async function serve(dir = DIST) {
  if (!existsSync(path.join(dir, 'index.html')))
    throw new Error(`${dir}/index.html missing: build dist/ first (cmake --preset web && cmake --build --preset web)`);
  const port = await freePort();
  const proc = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir],
                     { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr.on('data', () => {});
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; ++i) {
    try { const r = await fetch(origin + '/index.html'); if (r.ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { origin, close: () => proc.kill() };
}

// Opens the page and waits until window.facekeys is ready and cross-origin
// isolated (coi-serviceworker reloads the page once on the first visit).
// `args`: more Chromium flags (the video tests' fake camera); `query`: added to the page's URL.
export async function openPage({ origin }, { args = [], query = '' } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install chromium (scripts/install-deps.sh)`);
  const userDir = mkdtempSync(path.join(tmpdir(), 'facekeys-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args], viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] || await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(origin + '/index.html' + query);
  await page.waitForFunction(() => self.crossOriginIsolated && window.facekeys, null, { timeout: 60000 });
  await page.evaluate(() => window.facekeys.ready);
  return {
    page, context, requests, logs,
    close: async () => { await context.close(); rmSync(userDir, { recursive: true, force: true }); },
  };
}

// An image upscaled to 4000x3000 in the page and encoded as a JPEG (quality 0.92): the 12-megapixel
// photo of the benchmark and the large-photo tests. imageBytes: a smaller JPEG/PNG file's bytes.
export async function twelveMegapixelJpeg(page, imageBytes) {
  return Buffer.from(await page.evaluate(async (bytes) => {
    const bm = await createImageBitmap(new Blob([new Uint8Array(bytes)]));
    const c = new OffscreenCanvas(4000, 3000);
    c.getContext('2d').drawImage(bm, 0, 0, 4000, 3000);
    return Array.from(new Uint8Array(await (await c.convertToBlob({ type: 'image/jpeg', quality: 0.92 })).arrayBuffer()));
  }, Array.from(imageBytes)));
}
