// Shared set-up for the browser tests: serve dist/ on 127.0.0.1 with
// `python3 -m http.server` (no special headers: cross-origin isolation comes
// from the page's service worker web/coi-sw.js from the second visit on, as on GitHub Pages),
// drive Debian's Chromium headless with playwright-core, and record every request the page makes.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, symlinkSync } from 'node:fs';
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
// The omnibox's popup: headless Chromium 156 loads its WebUI in a renderer of its own for each new
// window, about 1 s of CPU on these 2 cores while the page starts; a visitor's browser loaded it
// when its window opened, not when a page does (docs/WEB.md, "Start-up and the first photo").
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup'];

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

// Opens the page in a fresh profile (a first visit: not cross-origin isolated, ONNX Runtime on one
// thread) and waits until window.facekeys is ready. `isolated: true` makes it a second visit
// (web/coi-sw.js, installed by the first, adds the isolation headers: ONNX Runtime's threads).
// `args`: more Chromium flags (the video tests' fake camera); `query`: added to the page's URL;
// `waitReady: false` returns without waiting for ready (a page expected to fail its start-up);
// `viewport`, `deviceScaleFactor`: the window's CSS size and devicePixelRatio (a phone's).
export async function openPage({ origin }, { args = [], query = '', waitReady = true, viewport = { width: 1280, height: 800 },
                                             deviceScaleFactor = 1, isolated = false } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install chromium (scripts/install-deps.sh)`);
  const userDir = mkdtempSync(path.join(tmpdir(), 'facekeys-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args], viewport, deviceScaleFactor,
    acceptDownloads: true,
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] || await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(origin + '/index.html' + query);
  await page.waitForFunction(() => window.facekeys, null, { timeout: 60000 });
  if (isolated) await secondVisit(page);
  if (waitReady) await page.evaluate(() => window.facekeys.ready);
  return {
    page, context, requests, logs,
    close: async () => { await context.close(); rmSync(userDir, { recursive: true, force: true }); },
  };
}

// Loads the page again once its isolation service worker controls it: the page of a second visit,
// cross-origin isolated.
export async function secondVisit(page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller, null, { timeout: 60000 });
  await page.reload();
  await page.waitForFunction(() => self.crossOriginIsolated && window.facekeys, null, { timeout: 60000 });
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

// ---- video (issue 22) ----------------------------------------------------------------
// The test video: make_test_video (tests/video/make_test_video.cpp, built with the native tests) writes a
// 640x480 Y4M of an LFPW photo moved by known maps and its moved points, one JSON line a frame.
export const MAKE_TEST_VIDEO = process.env.FACEKEYS_MAKE_TEST_VIDEO || path.join(ROOT, 'build/native/tests/make_test_video');

export function makeTestVideo(dir) {
  if (!existsSync(MAKE_TEST_VIDEO))
    throw new Error(`make_test_video missing at ${MAKE_TEST_VIDEO} (cmake --preset native && cmake --build --preset native ` +
                    '--target make_test_video, or FACEKEYS_MAKE_TEST_VIDEO): it makes the video the fake camera plays');
  const y4m = path.join(dir, 'video.y4m'), truth = path.join(dir, 'video_truth.jsonl');
  execFileSync(MAKE_TEST_VIDEO, [y4m, truth], { stdio: ['ignore', 'ignore', 'inherit'] });
  const frames = readFileSync(truth, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { y4m, truthFile: truth, truth: frames };
}

// Chromium's fake camera plays a Y4M file in a loop at the file's frame rate, and the page drops
// frames while its networks are busy, so a tracked camera frame cannot be matched to the file's frame
// by its time. Each frame gets its index painted in instead: FRAME_CODE_BITS blocks of 8x8 pixels
// along the bottom left (white 1, black 0; the last one a parity bit), far from the face, which the
// test reads back from the pixels camera.onFrame hands over (readFrameCode, run in the page).
export const FRAME_CODE_BITS = 12;  // 11 bits of index + parity
export function paintFrameCodes(src, dst) {
  const buf = readFileSync(src);
  const nl = buf.indexOf(10);
  const header = buf.subarray(0, nl).toString();
  const W = Number(/ W(\d+)/.exec(header)[1]), H = Number(/ H(\d+)/.exec(header)[1]);
  const cw = (W + 1) >> 1, ch = (H + 1) >> 1, planes = W * H + 2 * cw * ch;
  let off = nl + 1, index = 0;
  while (off < buf.length) {
    const fl = buf.indexOf(10, off);
    off = fl + 1;
    if (off + planes > buf.length) break;
    let bits = index & 0x7ff, parity = 0;
    for (let k = 0; k < 11; ++k) parity ^= (bits >> k) & 1;
    bits |= parity << 11;
    for (let k = 0; k < FRAME_CODE_BITS; ++k) {
      const x0 = 8 + 8 * k, y0 = H - 12, v = (bits >> k) & 1 ? 235 : 16;
      for (let y = y0; y < y0 + 8; ++y) buf.fill(v, off + y * W + x0, off + y * W + x0 + 8);
      for (let y = y0 >> 1; y < (y0 + 8) >> 1; ++y) {  // chroma neutral
        buf.fill(128, off + W * H + y * cw + (x0 >> 1), off + W * H + y * cw + ((x0 + 8) >> 1));
        buf.fill(128, off + W * H + cw * ch + y * cw + (x0 >> 1), off + W * H + cw * ch + y * cw + ((x0 + 8) >> 1));
      }
    }
    off += planes;
    ++index;
  }
  writeFileSync(dst, buf);
  return index;
}
// In the page: the painted index of a frame's RGBA pixels ({width, height, rgba}), -1 when the parity fails.
export const readFrameCodeSource = `(px) => {
  let bits = 0;
  for (let k = 0; k < ${FRAME_CODE_BITS}; ++k) {
    const x = 12 + 8 * k, y = px.height - 8, o = 4 * (y * px.width + x);
    if (px.rgba[o] + px.rgba[o + 1] + px.rgba[o + 2] > 3 * 128) bits |= 1 << k;
  }
  let parity = 0;
  for (let k = 0; k < 11; ++k) parity ^= (bits >> k) & 1;
  return parity === ((bits >> 11) & 1) ? bits & 0x7ff : -1;
}`;

// A site for the video tests: dist/'s files (links) plus extra files (name -> path), so the page can
// fetch the test video from its own origin.
export function siteWith(extra, dir) {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(DIST)) symlinkSync(path.join(DIST, f), path.join(dir, f));
  for (const [name, p] of Object.entries(extra)) symlinkSync(p, path.join(dir, name));
  return dir;
}
// Chromium's flags for a fake camera playing `y4m` (permission granted without a prompt).
export const fakeCameraArgs = (y4m) => ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  `--use-file-for-fake-video-capture=${y4m}`];
