// Live video in the page (issue 22): Chromium's fake camera playing a test video made at test time
// (make_test_video: an LFPW photo moved by known maps: still, pan, zoom, rotation, leaving the frame
// and coming back), tracked by the core's FaceTracker through window.facekeys.camera; the same video
// as a file through window.facekeys.video(); the page against `facekeys track`. See docs/WEB.md.
//
//   FACEKEYS_MAKE_TEST_VIDEO  the generator (default build/native/tests/make_test_video)
//   FACEKEYS_BIN              native `facekeys` for the comparison with `facekeys track`
//   FACEKEYS_VIDEO_CAMERA_S   seconds of camera per run (default: one loop of the video and a second)
//
// Matching tracked frames to the truth: the fake camera loops the file at its own frame rate and the
// page drops frames while its networks are busy, so times say little about which frame of the file
// was tracked. The camera gets a copy of the video with each frame's index painted in (12 blocks of
// 8x8 pixels, bottom left: harness.mjs, paintFrameCodes) and the test reads it back from the pixels
// camera.onFrame hands over with each record. The file path needs no code: a Y4M file is read by the
// page frame by frame, in order (record.source_frame).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, openPage, ROOT, DIST, makeTestVideo, paintFrameCodes, readFrameCodeSource, siteWith, fakeCameraArgs } from './harness.mjs';

const FACEKEYS = process.env.FACEKEYS_BIN || path.join(ROOT, 'build/native/native/facekeys');
const ARTIFACTS = process.env.FACEKEYS_WEB_ARTIFACTS || path.join(ROOT, 'build/web-artifacts');
const DETECT_EVERY = 10;
const NME_MAX = 0.06;
// A face that comes back is found again within this many frames of the file (0.5 s at 30 fps) after it
// is wholly in the frame again: the tracker runs the detector on every frame while it tracks no face,
// so this allows for the frames the page drops while the detector runs.
const REFIND_FRAMES = 15;

let tmp, video, srv, b;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  tmp = mkdtempSync(path.join(tmpdir(), 'facekeys-video-'));
  video = makeTestVideo(tmp);
  video.camera = path.join(tmp, 'camera.y4m');
  paintFrameCodes(video.y4m, video.camera);
  srv = await serve(siteWith({ 'video.y4m': video.y4m }, path.join(tmp, 'site')));
  b = await openPage(srv, { args: fakeCameraArgs(video.camera) });
});
after(async () => {
  if (b) {
    writeFileSync(path.join(ARTIFACTS, 'video-console.log'), b.logs.join('\n'));
    await b.close();
  }
  if (srv) srv.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const page = () => b.page;
const loopSeconds = () => video.truth.length / 30;

// One camera session of `seconds`: each tracked frame's record with the index of the file's frame
// it was (read from its pixels), and the page's animation-frame gaps meanwhile (main-thread freedom).
async function cameraRun(options, seconds) {
  return page().evaluate(async ({ options, seconds, codeSrc }) => {
    const readCode = eval(codeSrc);
    const records = [];
    const off = window.facekeys.camera.onFrame((rec, px) => records.push({ ...rec, code: readCode(px) }));
    const gaps = [];
    let last = performance.now(), run = true;
    const tick = () => { const t = performance.now(); gaps.push(t - last); last = t; if (run) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    await window.facekeys.camera.start(options);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const stats = window.facekeys.camera.stats();
    const frames = await window.facekeys.camera.stop();
    run = false;
    off();
    return { records, stats: { ...stats, last: undefined }, frames: frames.length, gaps };
  }, { options, seconds, codeSrc: readFrameCodeSource });
}

const eyeNme = (points, truth) => {  // NME with the outer eye corners (points 36 and 45), as the core's nme_per_image
  const iod = Math.hypot(truth[36][0] - truth[45][0], truth[36][1] - truth[45][1]);
  let s = 0;
  for (let k = 0; k < truth.length; ++k) s += Math.hypot(points[k][0] - truth[k][0], points[k][1] - truth[k][1]);
  return s / truth.length / iod;
};

// The checks of issue 22 on a sequence of tracked frames, each with `index` (the file's frame):
// NME where the face is wholly in the frame, one id while the face stays, found again after it left.
// stillOnly: only the frames of the still stretches count, and an id only has to stay over tracked
// frames that are all on one (a low frame rate loses the face in the motion before).
const isStill = (t) => /^(still|back)$/.test(t.segment);
function checkTracking(frames, label, stillOnly = false) {
  const T = video.truth;
  const bad = [], badNme = [];
  let nmeSum = 0, nmeN = 0;
  // frames after the face came back (it was out), until found: allowed to have no face
  let outAt = -1;
  const refinds = [];
  let prev = null;
  for (const f of frames) {
    const t = T[f.index];
    if (prev && f.index < prev.index) outAt = -1;  // the camera's loop starts again
    if (!t.points) outAt = f.index;
    if (t.in_frame) {
      if (f.faces.length === 0) {
        if (outAt < 0 || f.index - firstIn(outAt) > REFIND_FRAMES) bad.push(`frame ${f.index} (${t.segment}): no face`);
      } else {
        const nme = eyeNme(f.faces[0].points, t.points);
        nmeSum += nme; ++nmeN;
        if (nme > NME_MAX) badNme.push(`frame ${f.index} (${t.segment}): NME ${nme.toFixed(4)}`);
        if (f.faces.length > 1) bad.push(`frame ${f.index}: ${f.faces.length} faces`);
        if (outAt >= 0) { refinds.push(f.index - firstIn(outAt)); outAt = -1; }
      }
    }
    if (!t.points && f.faces.length) bad.push(`frame ${f.index} (${t.segment}): a face where none is`);
    prev = f;
  }
  // one id while the face stays: within a stretch of frames (in file order) with a face in view
  let id = null;
  prev = null;
  for (const f of frames) {
    const t = T[f.index];
    if (!t.points || (prev && f.index < prev.index) || (stillOnly && prev && !isStill(T[prev.index]))) id = null;
    if (t.in_frame && f.faces.length) {
      if (id !== null && f.faces[0].id !== id) bad.push(`frame ${f.index} (${t.segment}): id ${f.faces[0].id} after ${id}`);
      id = f.faces[0].id;
    }
    prev = f;
  }
  if (stillOnly) {
    const keep = (m) => / \((still|back)\)/.test(m);
    return { bad: bad.filter(keep), badNme: badNme.filter(keep), meanNme: nmeN ? nmeSum / nmeN : NaN, nmeFrames: nmeN, refinds, label };
  }
  return { bad, badNme, meanNme: nmeN ? nmeSum / nmeN : NaN, nmeFrames: nmeN, refinds, label };
}
function firstIn(outIndex) {
  for (let i = outIndex; i < video.truth.length; ++i) if (video.truth[i].in_frame) return i;
  return video.truth.length;
}
// Mean frame-to-frame motion of the points (px) between tracked frames of the still stretches whose
// truth did not move (same affine map): jitter.
function stillMotion(frames) {
  const T = video.truth;
  let s = 0, n = 0;
  for (let i = 1; i < frames.length; ++i) {
    const a = frames[i - 1], c = frames[i];
    const ta = T[a.index], tc = T[c.index];
    if (!/^(still|back)$/.test(tc.segment) || ta.segment !== tc.segment || !a.faces.length || !c.faces.length) continue;
    if (ta.affine.some((v, k) => v !== tc.affine[k])) continue;
    const p = a.faces[0].points, q = c.faces[0].points;
    let d = 0;
    for (let k = 0; k < p.length; ++k) d += Math.hypot(p[k][0] - q[k][0], p[k][1] - q[k][1]);
    s += d / p.length; ++n;
  }
  return { motion: n ? s / n : NaN, pairs: n };
}

// The camera's checks. Chromium's fake camera plays 30 frames a second whatever the page does, and the
// page tracks the newest frame whenever its networks are free: the file's frames it tracks are as many
// as it can (3-8 a second on this 2-core VM while other builds run, docs/WEB.md). Between two tracked
// frames the face then moves up to 40 px in the pan and the One Euro filter, whose smoothing depends on
// the time between frames, is much weaker. So on the camera: NME <= 0.06 and one id on the still
// stretches (any speed), the face found again by the first or second frame tracked after it is wholly
// back, and no face where none is; every frame's checks (NME, ids, smoothing) when the page tracked >= 20
// frames a second. The file test below feeds the same tracker every frame at 30 fps timestamps and
// checks all of them whatever the speed.
const STRICT_FPS = 20;
test('camera: the fake camera tracked, frames matched to the truth by their painted index: NME <= 0.06, one id, found again', async () => {
  const seconds = Number(process.env.FACEKEYS_VIDEO_CAMERA_S || loopSeconds() + 1.5);
  const r = await cameraRun({ detectEvery: DETECT_EVERY, smoothing: true }, seconds);
  const frames = r.records.filter((f) => f.code >= 0 && f.code < video.truth.length).map((f) => ({ ...f, index: f.code }));
  assert.ok(frames.length >= 10, `only ${frames.length} frames tracked in ${seconds} s (${JSON.stringify(r.stats)})`);
  assert.ok(frames.length >= r.records.length - 2, `${r.records.length - frames.length} of ${r.records.length} frames without a readable index`);
  const fps = frames.length / seconds;
  const c = checkTracking(frames, 'camera');
  const gaps = r.gaps.slice().sort((a, b) => a - b);
  console.log(`camera: ${frames.length} frames tracked in ${seconds.toFixed(1)} s (${fps.toFixed(1)} fps, ${r.stats.dropped} dropped ` +
              `while busy), mean NME ${c.meanNme.toFixed(4)} over ${c.nmeFrames}, found again after ${JSON.stringify(c.refinds)} ` +
              `frames of the file; animation frames: median ${gaps[gaps.length >> 1].toFixed(1)} ms apart`);
  const still = (f) => /^(still|back)$/.test(video.truth[f.index].segment);
  console.log('camera frames (file index, ids, NME):', frames.map((f) => `${f.index}:${f.faces.map((g) => g.id).join(',')}` +
    (video.truth[f.index].in_frame && f.faces.length ? `:${eyeNme(f.faces[0].points, video.truth[f.index].points).toFixed(3)}` : '')).join(' '));
  if (fps >= STRICT_FPS) assert.deepEqual([...c.bad, ...c.badNme], []);
  else {
    console.log(`camera: ${fps.toFixed(1)} fps < ${STRICT_FPS}: every-frame checks on the still stretches only; ` +
                `elsewhere ${c.bad.length + c.badNme.length} frames fail them: ${[...c.bad, ...c.badNme].slice(0, 6).join('; ')}`);
    const cs = checkTracking(frames, 'camera, still', true);
    assert.deepEqual([...cs.bad, ...cs.badNme], []);
  }
  assert.ok(frames.filter(still).length >= 3, 'too few frames tracked on the still stretches');
  // The face left and came back: found again by the first or second frame the page tracked after that.
  assert.ok(frames.some((f) => !video.truth[f.index].points), 'no tracked frame without the face (it leaves for 10 frames a loop)');
  assert.ok(c.refinds.length >= 1, 'the face was not seen coming back');
  for (let i = 0; i < frames.length; ++i) {
    const t = video.truth[frames[i].index];
    if (t.points || i + 1 >= frames.length) continue;
    const back = frames.slice(i + 1).filter((f) => video.truth[f.index].in_frame);
    if (back.length >= 2) assert.ok(back[0].faces.length || back[1].faces.length,
      `the face came back at file frame ${back[0].index} and was not found by frame ${back[1].index}`);
  }
  // Chromium's camera frames come through camera_worker.js (every frame the camera captures), not a <video> element.
  assert.equal(r.stats.reader, 'worker');
  // The main thread stays free while the networks run (ONNX Runtime in its worker, onnx_worker.js): most animation
  // frames come at the display's rate.
  assert.ok(gaps[gaps.length >> 1] < 50, `animation frames a median ${gaps[gaps.length >> 1]} ms apart while tracking`);
});

let fileFrames = null;
test('video file: window.facekeys.video() tracks every frame of the Y4M: one id while the face stays, found again', async () => {
  const frames = await page().evaluate(async () => {
    const f = await window.facekeys.video('video.y4m', { detectEvery: 10, smoothing: true });
    return f.map((x) => ({ source_frame: x.source_frame, frame: x.frame, t_ms: x.t_ms, faces: x.faces.map((g) => ({ id: g.id, box: g.box, points: g.points })) }));
  });
  assert.equal(frames.length, video.truth.length);
  frames.forEach((f, i) => assert.equal(f.source_frame, i));
  fileFrames = frames.map((f) => ({ ...f, index: f.source_frame }));
  const c = checkTracking(fileFrames, 'file');
  console.log(`file: ${frames.length} frames, mean NME ${c.meanNme.toFixed(4)} over ${c.nmeFrames}, found again after ` +
              `${JSON.stringify(c.refinds)} frames; NME over ${NME_MAX}: ${c.badNme.join('; ') || 'none'}`);
  assert.deepEqual(c.bad, []);
  assert.equal(c.refinds.length, 1, 'the face was not found again after it left');
  assert.ok(c.refinds[0] <= DETECT_EVERY + 1, `found again ${c.refinds[0]} frames after it came back`);
});

// Issue 22's accuracy bar on every frame. The page's points are the core's (the next test compares
// them with `facekeys track`): a frame over the bar here is over it natively too.
test('video file: NME <= 0.06 on every frame where the face is wholly in the frame', () => {
  assert.ok(fileFrames, 'the video file test did not run');
  assert.deepEqual(checkTracking(fileFrames, 'file').badNme, []);
});

test('video file: smoothing: on the still stretch the points move >= 5x less than unsmoothed, <= 0.3 px', async () => {
  assert.ok(fileFrames, 'the video file test did not run');
  const stillFrames = video.truth.filter((t) => t.segment === 'still').length;
  const raw = await page().evaluate(async (n) => {
    const f = await window.facekeys.video('video.y4m', { detectEvery: 10, smoothing: false, maxFrames: n });
    return f.map((x) => ({ source_frame: x.source_frame, faces: x.faces.map((g) => ({ id: g.id, points: g.points })) }));
  }, stillFrames);
  assert.equal(raw.length, stillFrames);
  const s = stillMotion(fileFrames.slice(0, stillFrames)), u = stillMotion(raw.map((f) => ({ ...f, index: f.source_frame })));
  console.log(`file, still stretch: smoothed ${s.motion.toFixed(3)} px, unsmoothed ${u.motion.toFixed(3)} px a frame (${s.pairs} pairs)`);
  assert.ok(s.pairs >= stillFrames - 2);
  assert.ok(s.motion <= 0.3, `smoothed motion ${s.motion} px > 0.3`);
  assert.ok(s.motion * 5 <= u.motion, `smoothed ${s.motion} px is not 5x below unsmoothed ${u.motion} px`);
});

test('video file: the page agrees with `facekeys track` on the same Y4M within 0.5 px mean', async () => {
  assert.ok(fileFrames, 'the video file test did not run');
  if (!existsSync(FACEKEYS)) assert.fail(`native facekeys not built at ${FACEKEYS}: needed to compare the page with \`facekeys track\``);
  const model = await page().evaluate(() => window.facekeys.models().find((m) => m.default).id);
  const out = path.join(tmp, 'native.jsonl');
  execFileSync(FACEKEYS, ['track', video.y4m, '--model', path.join(DIST, 'models', model),
                          '--detect-every', String(DETECT_EVERY), '-q', '-o', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const nat = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(nat.length, fileFrames.length, 'frames: native vs page');
  let s = 0, n = 0, facesDiffer = 0;
  for (let i = 0; i < nat.length; ++i) {
    const a = fileFrames[i].faces, q = nat[i].faces;
    if (a.length !== q.length) { ++facesDiffer; continue; }
    for (let j = 0; j < a.length; ++j)
      for (let k = 0; k < a[j].points.length; ++k) { s += Math.hypot(a[j].points[k][0] - q[j].points[k][0], a[j].points[k][1] - q[j].points[k][1]); ++n; }
  }
  console.log(`page vs facekeys track: mean ${(s / n).toFixed(3)} px over ${n} points; ${facesDiffer} frames with another number of faces`);
  assert.ok(facesDiffer <= 2, `${facesDiffer} frames where the page and facekeys track found different numbers of faces`);
  assert.ok(s / n <= 0.5, `mean point difference ${s / n} px > 0.5`);
});

// The flip test in video (off by default): the page's panel switch / `flipTest` and `facekeys track
// --flip-test` run the same core code, and it changes the points (the mirror images are really run).
test('video file: with the flip test on, the page agrees with `facekeys track --flip-test`', async () => {
  assert.ok(fileFrames, 'the video file test did not run');
  if (!existsSync(FACEKEYS)) assert.fail(`native facekeys not built at ${FACEKEYS}`);
  const n = 45;
  const flipped = await page().evaluate(async (n) => {
    const f = await window.facekeys.video('video.y4m', { detectEvery: 10, smoothing: true, flipTest: true, maxFrames: n });
    return f.map((x) => x.faces.map((g) => g.points));
  }, n);
  const model = await page().evaluate(() => window.facekeys.models().find((m) => m.default).id);
  const out = path.join(tmp, 'native_flip.jsonl');
  execFileSync(FACEKEYS, ['track', video.y4m, '--model', path.join(DIST, 'models', model), '--detect-every', String(DETECT_EVERY),
                          '--flip-test', '--frames', String(n), '-q', '-o', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const nat = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l).faces.map((g) => g.points));
  assert.equal(flipped.length, n);
  assert.equal(nat.length, n);
  const meanDiff = (a, b) => {
    let s = 0, k = 0;
    for (let i = 0; i < a.length; ++i)
      for (let j = 0; j < Math.min(a[i].length, b[i].length); ++j)
        for (let p = 0; p < a[i][j].length; ++p) { s += Math.hypot(a[i][j][p][0] - b[i][j][p][0], a[i][j][p][1] - b[i][j][p][1]); ++k; }
    return k ? s / k : Infinity;
  };
  const vsNative = meanDiff(flipped, nat);
  const vsPlain = meanDiff(flipped, fileFrames.slice(0, n).map((f) => f.faces.map((g) => g.points)));
  console.log(`flip test: page vs facekeys track --flip-test ${vsNative.toFixed(3)} px; vs the page without it ${vsPlain.toFixed(3)} px`);
  assert.ok(vsNative <= 0.5, `page vs native with the flip test: ${vsNative} px > 0.5`);
  assert.ok(vsPlain > 0.05, `the flip test changed the points by ${vsPlain} px only: was it run?`);
});

test('video file the browser plays (WebM): tracked in real time through the same path, frames dropped while busy', async () => {
  // 3 s of the fake camera recorded by the browser itself (MediaRecorder, WebM): a file <video> plays.
  const r = await page().evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    const rec = new MediaRecorder(stream, { mimeType: 'video/webm' });
    const chunks = [];
    rec.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((res) => { rec.onstop = res; });
    rec.start();
    await new Promise((res) => setTimeout(res, 3000));
    rec.stop();
    await stopped;
    for (const t of stream.getTracks()) t.stop();
    const blob = new File(chunks, 'recorded.webm', { type: 'video/webm' });
    const frames = await window.facekeys.video(blob, {});
    const stats = window.facekeys.camera.stats();
    return { bytes: blob.size, frames: frames.map((f) => ({ t_ms: f.t_ms, faces: f.faces.length, ids: f.faces.map((g) => g.id) })),
             dropped: stats.dropped, status: window.facekeys.status() };
  });
  console.log(`WebM (${r.bytes} bytes): ${r.frames.length} frames tracked, ${r.dropped} dropped while busy; ${r.status.message}`);
  assert.ok(r.frames.length >= 3, `${r.frames.length} frames tracked from a 3 s WebM`);
  for (let i = 1; i < r.frames.length; ++i) assert.ok(r.frames[i].t_ms > r.frames[i - 1].t_ms, 'media times increase');
  assert.ok(r.frames.filter((f) => f.faces >= 1).length >= r.frames.length / 2, 'faces in at most half the frames');
  assert.equal(r.status.error, '');
});

test('bad video files: an error that names the file, shown in the page, and the page keeps working', async () => {
  const r = await page().evaluate(async () => {
    const junk = new Uint8Array(20000);
    for (let i = 0; i < junk.length; ++i) junk[i] = (i * 7919 + 13) % 251;
    const header = 'YUV4MPEG2 W640 H480 F30:1 C420jpeg\n';
    const files = [new File([junk], 'junk.mp4', { type: 'video/mp4' }),
                   new File([header + 'FRAME\nabc'], 'cut.y4m'),
                   new File(['YUV4MPEG2 W0 H480\n'], 'nosize.y4m')];
    const out = [];
    for (const f of files) {
      try {
        const frames = await window.facekeys.video(f, {});
        out.push({ name: f.name, frames: frames.length });
      } catch (e) {
        out.push({ name: f.name, error: e.message, status: window.facekeys.status() });
      }
    }
    return out;
  });
  for (const x of r) {
    assert.ok(x.error, `${x.name}: no error (${x.frames} frames)`);
    assert.ok(x.error.startsWith(`${x.name}: `), `${x.name}: the error does not name it: ${x.error}`);
    assert.equal(x.status.error, x.error, `${x.name}: the page shows another status`);
  }
  assert.match(r[0].error, /not a video this browser can play/);
  assert.match(r[1].error, /no whole frame/);
  assert.match(r[2].error, /no frame size/);
  const after = await page().evaluate(async () => (await window.facekeys.video('video.y4m', { maxFrames: 3 })).length);
  assert.equal(after, 3, 'the next video is tracked');
});

test('camera in the page as a user sees it: the panel, the frame and its overlay (screenshot), frames downloaded as JSON lines', async () => {
  await page().evaluate(() => {  // each tracked frame's pixels, kept for the check of the frame shown
    window.fkTestOff = window.facekeys.camera.onFrame((rec, px) => {
      window.fkTestLast = { frame: rec.frame, width: px.width, height: px.height, rgba: px.rgba.slice() };
    });
  });
  await page().evaluate(() => window.facekeys.camera.start({}));
  await page().waitForFunction(() => { const s = window.facekeys.camera.stats(); return s && s.last && s.last.faces.length > 0; }, null, { timeout: 60000 });
  // The view shows a tracked frame with its faces (waited for: the face is out of the frame for a second a loop).
  await page().waitForFunction(() => window.facekeys.view().video && window.facekeys.view().faces >= 1, null, { timeout: 30000 });
  await page().screenshot({ path: path.join(ARTIFACTS, 'video.png') });
  // What is drawn is the frame shown with its own faces (the tracker is most often at work on the
  // next frame meanwhile): paused, the last frame tracked is the one shown, and its points are drawn
  // where they are (the points' colour, OverlayStyle::point, within 2 px of nearly all 68).
  // The camera's video leaves the face out of the frame for a second a loop: a pause that lands
  // there shows no face, so pause again (up to 5 times) until the frame shown has one.
  let shown = null;
  for (let attempt = 0; attempt < 5 && !(shown && shown.last.faces.length); ++attempt) {
    if (shown) await page().evaluate(() => window.facekeysApp.togglePause());  // on again
    await page().waitForFunction(() => window.facekeys.camera.stats().last.faces.length > 0, null, { timeout: 30000 });
    await page().evaluate(() => window.facekeysApp.togglePause());
    await page().waitForTimeout(600);
    shown = await page().evaluate(() => {
      const r = document.getElementById('canvas').getBoundingClientRect();
      return { last: window.facekeys.camera.stats().last, view: window.facekeys.view(), left: r.left, top: r.top };
    });
  }
  const png = await page().screenshot({ path: path.join(ARTIFACTS, 'video-paused.png') });
  assert.ok(shown.last.faces.length >= 1, 'no face in the last frame before the pause, five times');
  const pointsDrawn = (png) => page().evaluate(async ({ bytes, shown }) => {
    const bm = await createImageBitmap(new Blob([new Uint8Array(bytes)]));
    const c = new OffscreenCanvas(bm.width, bm.height), ctx = c.getContext('2d');
    ctx.drawImage(bm, 0, 0);
    const px = ctx.getImageData(0, 0, bm.width, bm.height).data;
    const { view: v } = shown;
    let hits = 0;
    for (const [x, y] of shown.last.faces[0].points) {
      const sx = Math.round(shown.left + v.ox + (x + 0.5) * v.scale), sy = Math.round(shown.top + v.oy + (y + 0.5) * v.scale);
      let hit = false;
      for (let dy = -2; dy <= 2 && !hit; ++dy)
        for (let dx = -2; dx <= 2 && !hit; ++dx) {
          const i = 4 * ((sy + dy) * bm.width + sx + dx);
          hit = px[i] < 90 && px[i + 1] > 180 && px[i + 2] < 150;  // the points' green
        }
      if (hit) ++hits;
    }
    return hits;
  }, { bytes: Array.from(png), shown });
  const drawn = await pointsDrawn(png);
  assert.ok(drawn >= 60, `only ${drawn} of 68 points drawn where the shown frame's points are`);
  // The overlay is drawn on the frame in the page's video layer (by the core's rasteriser, app_glue.js
  // showVideoPixels): switched off while paused, the layer shows the frame alone; on again, its points.
  await page().evaluate(() => window.facekeys.setOverlay(false));
  await page().waitForTimeout(300);
  const bare = await pointsDrawn(await page().screenshot({ path: path.join(ARTIFACTS, 'video-paused-no-overlay.png') }));
  await page().evaluate(() => window.facekeys.setOverlay(true));
  await page().waitForTimeout(300);
  const again = await pointsDrawn(await page().screenshot());
  assert.ok(bare <= 5 && again >= 60, `points drawn with the overlay off: ${bare} of 68, on again: ${again}`);
  // Under the overlay, the view shows that frame's own pixels (the page's video layer, in step with the
  // module's overlay): the screenshot against the frame, scaled as the view has it, on a grid over the
  // frame (the median, as the overlay covers a few of the samples).
  const diff = await page().evaluate(async ({ bytes, shown }) => {
    const f = window.fkTestLast;
    window.fkTestOff();
    if (!f || f.frame !== shown.last.frame) return { error: `the last frame kept is ${f && f.frame}, not ${shown.last.frame}` };
    const bm = await createImageBitmap(new Blob([new Uint8Array(bytes)]));
    const c = new OffscreenCanvas(bm.width, bm.height), ctx = c.getContext('2d');
    ctx.drawImage(bm, 0, 0);
    const px = ctx.getImageData(0, 0, bm.width, bm.height).data;
    const { view: v } = shown, d = [];
    for (let y = 20; y < f.height - 20; y += 23)
      for (let x = 20; x < f.width - 20; x += 23) {
        const sx = Math.round(shown.left + v.ox + (x + 0.5) * v.scale - 0.5), sy = Math.round(shown.top + v.oy + (y + 0.5) * v.scale - 0.5);
        const i = 4 * (sy * bm.width + sx), j = 4 * (y * f.width + x);
        d.push((Math.abs(px[i] - f.rgba[j]) + Math.abs(px[i + 1] - f.rgba[j + 1]) + Math.abs(px[i + 2] - f.rgba[j + 2])) / 3);
      }
    d.sort((a, b) => a - b);
    return { median: d[d.length >> 1], n: d.length };
  }, { bytes: Array.from(png), shown });
  assert.ok(!diff.error, diff.error);
  assert.ok(diff.median <= 8, `the view differs from the frame tracked by ${diff.median} grey levels (median of ${diff.n})`);
  // Resumed after more than the tracker's max_gap_s (0.5 s): the first frame runs the detector, since
  // the face may have moved anywhere meanwhile (face_tracker.hpp).
  const resumed = await page().evaluate(() => new Promise((resolve) => {
    const off = window.facekeys.camera.onFrame((rec) => { off(); resolve(rec); });
    window.facekeysApp.togglePause();
  }));
  assert.equal(resumed.detected, true, `the first frame after the pause: ${JSON.stringify({ frame: resumed.frame, t_ms: resumed.t_ms, detected: resumed.detected })}`);
  const [download] = await Promise.all([page().waitForEvent('download'), page().evaluate(() => window.facekeysApp.downloadFrames())]);
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.length >= 1 && lines.every((l) => Array.isArray(l.faces) && typeof l.frame === 'number'), 'downloaded frames');
  assert.match(download.suggestedFilename(), /^camera\.frames\.jsonl$/);
  // Another 68-point model picked in the panel while the camera runs: the video goes on with it.
  const other = await page().evaluate(() => window.facekeys.models().find((m) => !m.default && m.schema === 'ibug68'));
  if (other) {
    const before = await page().evaluate(() => window.facekeys.camera.stats().last.model);
    const k = await page().evaluate((id) => window.facekeys.models().findIndex((m) => m.id === id), other.id);
    await page().evaluate((k) => window.facekeysApp.selectVideoModel(k), k);
    await page().waitForFunction((b) => { const s = window.facekeys.camera.stats(); return s.last.model !== b && s.last.faces.length > 0; },
                                 before, { timeout: 90000 });
    const last = await page().evaluate(() => window.facekeys.camera.stats().last);
    assert.equal(last.model, other.name);
    assert.equal(last.faces[0].points.length, 68);
    assert.equal((await page().evaluate(() => window.facekeys.view())).model, other.id);
  }
  const frames = await page().evaluate(() => window.facekeys.camera.stop());
  assert.ok(frames.length >= lines.length);
});

// Last: it leaves the page reading frames through a canvas. A browser whose VideoFrame.copyTo cannot
// convert the camera's frames gets them drawn through a canvas instead: the same faces.
// The camera through a <video> element (browsers without MediaStreamTrackProcessor: camera_worker.js is not used).
test('camera through a <video> element without VideoFrame.copyTo: frames read through a canvas, faces still tracked', async () => {
  const r = await page().evaluate(async () => {
    VideoFrame.prototype.copyTo = function () { return Promise.reject(new Error('test: no copyTo')); };
    await window.facekeys.camera.start({ reader: 'element' });
    if (window.facekeys.camera.stats().reader !== 'element') throw new Error('not the <video> element');
    await new Promise((res) => setTimeout(res, 3000));
    const frames = await window.facekeys.camera.stop();
    return { n: frames.length, withFace: frames.filter((f) => f.faces.length && f.faces[0].points.length === 68).length,
             status: window.facekeys.status() };
  });
  console.log(`canvas read-back: ${r.n} frames, ${r.withFace} with 68 points; ${r.status.message}`);
  assert.ok(r.n >= 5, `only ${r.n} frames tracked`);
  assert.ok(r.withFace >= r.n / 2, `faces on ${r.withFace} of ${r.n} frames`);
  assert.ok(!r.status.error, r.status.message);
});
