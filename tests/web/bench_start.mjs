// Benchmark (not a test): how soon the page answers, in headless Chromium.
//   node tests/web/bench_start.mjs [RUNS] [FIRST]   prints one JSON object (QUERY=ortthreads=1: page options)
// For first visits (FIRST of them, default 4, each in a fresh browser profile: every download, no
// compiled code cached, not cross-origin isolated yet: ONNX Runtime on one thread) and second visits
// (the same profile as the last first visit: files and compiled code cached, isolated by the
// service worker the first visit installed):
//   open_to_ready_ms    page.goto -> window.facekeys.ready resolved (first visits: each, and the median)
//   first_photo_ms_<kind>  (first visits after the first) ready -> a photo's points, sent right at
//                       ready, the kinds in turn
//   first_photo_ms      ready -> the first photo's points, per photo kind, each in a
//                       second visit of its own (the photo sent right after ready)
//   first_photo_after_warm_up_ms
//                       the same with the photo sent once the page's warm-up is done
//                       (mark 'facekeys:warm'): a visitor who picks a photo a second or
//                       two after the page is up
//   warm_ms             the median of RUNS more predictions of each photo
//   marks_ms            the page's start-up marks (performance.mark 'facekeys:*', ms since
//                       navigation): module, cards, detector-session, model-session, ready, warm
// Photo kinds: an LFPW test photo (PNG), the 12 MP JPEG of bench.mjs (an IMM photo
// upscaled to 4000x3000) and a 6-face photo (dlib_example_faces/2008_002079.jpg).
// Goals on the 2-core VM (issue 21): ready <= 2500 ms, first photo <= 400 ms after
// ready, a warm 12 MP photo <= 150 ms, a warm 6-face photo <= 400 ms.
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve, twelveMegapixelJpeg, CHROMIUM, CHROMIUM_ARGS, DATA } from './harness.mjs';

const RUNS = Number(process.argv[2] || 5);
const FIRST = Number(process.argv[3] || 4);
const lfpwDir = path.join(DATA, '300w/lfpw/testset');
const lfpw = path.join(lfpwDir, readdirSync(lfpwDir).filter((f) => f.endsWith('.png')).sort()[0]);
const group = path.join(DATA, 'dlib_example_faces/2008_002079.jpg');

const srv = await serve();
let userDir, context;
async function freshProfile() {
  if (context) { await context.close(); rmSync(userDir, { recursive: true, force: true }); }
  userDir = mkdtempSync(path.join(tmpdir(), 'facekeys-bench-'));
  context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 },
  });
}

// Opens the page (a new tab of the profile) and waits for ready; -> [page, ms]. A second visit
// is cross-origin isolated (the service worker of the first adds the headers).
async function visit({ second = true } = {}) {
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(srv.origin + '/index.html' + (process.env.QUERY ? '?' + process.env.QUERY : ''));
  await page.waitForFunction((second) => window.facekeys && (!second || self.crossOriginIsolated), second, { timeout: 60000 });
  await page.evaluate(() => window.facekeys.ready);
  return [page, Date.now() - t0];
}

// Predicts `bytes` as soon as the page is ready (afterWarmUp: once its warm-up is done), then RUNS
// more times; ms from the call to the points.
async function photoTimes(page, bytes, name, runs, afterWarmUp = false) {
  if (afterWarmUp) await page.waitForFunction(() => performance.getEntriesByName('facekeys:warm').length > 0);
  return page.evaluate(async ({ bytes, name, runs }) => {
    const blob = new Blob([new Uint8Array(bytes)]);
    const times = [];
    let faces = 0;
    for (let i = 0; i <= runs; ++i) {
      const t0 = performance.now();
      const r = await window.facekeys.predict(new File([blob], name));
      times.push(performance.now() - t0);
      faces = r.faces.length;
    }
    return { first: times[0], warm: times.slice(1), faces };
  }, { bytes: Array.from(bytes), name, runs });
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const r1 = (x) => Math.round(x);

try {
  const marks = async (page) => page.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 1500));  // the warm-up runs after ready
    return Object.fromEntries(performance.getEntriesByType('mark').filter((m) => m.name.startsWith('facekeys:'))
      .map((m) => [m.name.slice(9), Math.round(m.startTime)]));
  });
  // First visits: the first makes the 12 MP JPEG; each later one sends a photo right at ready
  // (the kinds in turn), as a visitor who drops one while the page starts.
  const firstVisits = [];
  let first, photos;
  for (let i = 0; i < FIRST; ++i) {
    if (first) await first.close();
    await freshProfile();
    const [page, ms] = await visit({ second: false });
    first = page;
    const v = { open_to_ready_ms: ms, isolated: await page.evaluate(() => self.crossOriginIsolated) };
    if (photos) {
      const [kind, [bytes, name]] = Object.entries(photos)[(i - 1) % 3];
      v[`first_photo_ms_${kind}`] = r1((await photoTimes(page, bytes, name, 0)).first);
    }
    v.marks_ms = await marks(page);
    firstVisits.push(v);
    if (!photos) {
      const big = await twelveMegapixelJpeg(page, readFileSync(path.join(DATA, 'imm_face_db/01-1m.jpg')));
      photos = { lfpw: [readFileSync(lfpw), path.basename(lfpw)], twelve_mp: [big, 'bench12mp.jpg'],
                 six_faces: [readFileSync(group), path.basename(group)] };
    }
  }
  await first.waitForFunction(() => navigator.serviceWorker.controller, null, { timeout: 60000 });
  await first.close();
  const second = {};
  {
    const [page] = await visit();
    second.marks_ms = await marks(page);
    await page.close();
  }
  const firstPhoto = {}, afterWarmUp = {}, warm = {}, faces = {};
  for (const [kind, [bytes, name]] of Object.entries(photos)) {
    const [page, ms] = await visit();
    second[kind] = ms;
    const t = await photoTimes(page, bytes, name, RUNS);
    firstPhoto[kind] = r1(t.first);
    warm[kind] = r1(median(t.warm));
    faces[kind] = t.faces;
    await page.close();
    const [later] = await visit();
    afterWarmUp[kind] = r1((await photoTimes(later, bytes, name, 0, true)).first);
    await later.close();
  }
  console.log(JSON.stringify({
    date: new Date().toISOString(),
    machine: `${os.cpus()[0].model}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
    chromium: context.browser() ? context.browser().version() : 'chromium',
    first_visit: { open_to_ready_ms: median(firstVisits.map((v) => v.open_to_ready_ms)), each: firstVisits },
    second_visit: { open_to_ready_ms: median(Object.entries(second).filter(([k]) => k !== 'marks_ms').map(([, v]) => v)),
                    each: second },
    first_photo_ms: firstPhoto, first_photo_after_warm_up_ms: afterWarmUp, warm_ms: warm, faces, runs: RUNS,
    goals: { ready_ms: 2500, first_photo_ms: 400, warm_twelve_mp_ms: 150, warm_six_faces_ms: 400 },
  }, null, 2));
} finally {
  await context.close();
  rmSync(userDir, { recursive: true, force: true });
  srv.close();
}
