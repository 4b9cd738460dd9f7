// Benchmark (not a test): live video in the page. Chromium's fake camera plays make_test_video's
// 640x480, 30 fps video (one face: still, pan, zoom, rotation, out and back) and the page tracks it
// with the default model (tracking on: detector every 10 frames, smoothing on) for SECONDS from the first
// frame tracked (start_ms: camera.start's time, the video worker's warm-up included); prints one
// JSON object: frames tracked per second, frames dropped while busy, the per-stage split (median
// ms per tracked frame: grab = the wait for the frame's pixels, detect = UltraFace when it ran,
// preprocess = the core's crops, tensors and decoding, infer = the keypoint model, total) and how often
// the page's animation frames came (main-thread freedom).
// camera_fps is the rate the camera delivered at: Chromium's fake camera plays its file at 30 fps to an
// idle page, but its capture shares the CPU with the page (25-29 fps here while the page tracks), and
// a page cannot track more frames than it is given. CAMERA_FPS plays the same frames at other rates
// (e.g. 60: the face moves twice as fast, as in front of a 60 fps camera).
//   node tests/web/bench_video.mjs [SECONDS] [CAMERA_FPS...]   (default 30; FACEKEYS_MAKE_TEST_VIDEO: the generator)
// DETECT_EVERY=N: the detector interval (default 10); READER=element: the camera through a <video> element
// (as browsers without MediaStreamTrackProcessor read it) instead of wasm/camera_worker.js.
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { serve, openPage, makeTestVideo, fakeCameraArgs } from './harness.mjs';

const SECONDS = Number(process.argv[2] || 20);
const CAMERA_FPS = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [30];
const tmp = mkdtempSync(path.join(tmpdir(), 'facekeys-bench-video-'));
const med = (a) => { const s = a.slice().sort((x, y) => x - y); return s.length ? s[s.length >> 1] : 0; };
const pct = (a, q) => { const s = a.slice().sort((x, y) => x - y); return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : 0; };

async function run(srv, y4m, query) {
  const b = await openPage(srv, { args: fakeCameraArgs(y4m), query, isolated: true });
  try {
    // the warm-up of ready (one run of each network) done before measuring
    await b.page.waitForFunction(() => performance.getEntriesByName('facekeys:warm').length > 0, null, { timeout: 120000 });
    return await b.page.evaluate(async ([seconds, model, detectEvery, reader]) => {
      const gaps = [];
      let last = performance.now(), on = true;
      const tick = () => { const t = performance.now(); gaps.push(t - last); last = t; if (on) requestAnimationFrame(tick); };
      const tStart = performance.now();
      await window.facekeys.camera.start({ detectEvery, smoothing: true, model, reader });
      const t0 = performance.now();
      const startMs = t0 - tStart;  // the video worker made and warmed, the first frame tracked
      const s0 = window.facekeys.camera.stats();
      requestAnimationFrame(tick);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const s1 = window.facekeys.camera.stats();
      const ms = performance.now() - t0;
      on = false;
      const frames = (await window.facekeys.camera.stop()).slice(s0.frames);
      const stages = {};
      for (const k of ['grab', 'detect', 'preprocess', 'infer', 'total'])
        stages[k] = frames.filter((f) => k !== 'detect' || f.detected).map((f) => f.timing_ms[k]);
      return { ms, frames: s1.frames - s0.frames, dropped: s1.dropped - s0.dropped, seen: s1.seen - s0.seen, stages,
               with_face: frames.filter((f) => f.faces.length).length, detected: frames.filter((f) => f.detected).length,
               gaps, size: [frames[0] && frames[0].width, frames[0] && frames[0].height],
               model: model || window.facekeys.models().find((m) => m.default).id, isolated: self.crossOriginIsolated,
               reader: s1.reader, startMs };
    }, [SECONDS, process.env.MODEL || null, Number(process.env.DETECT_EVERY || 10), process.env.READER]);
  } finally { await b.close(); }
}

// The test video with its header's frame rate (F30:1) replaced: the fake camera plays it at that rate.
function atFrameRate(y4m, fps) {
  if (fps === 30) return y4m;
  const bytes = readFileSync(y4m);
  const end = bytes.indexOf(0x0a);
  const header = bytes.subarray(0, end).toString('latin1');
  if (!/ F30:1( |$)/.test(header)) throw new Error(`${y4m}: expected a 30 fps Y4M header, got '${header}'`);
  const out = y4m.replace(/\.y4m$/, `_${fps}fps.y4m`);
  writeFileSync(out, Buffer.concat([Buffer.from(header.replace(/ F30:1/, ` F${fps}:1`), 'latin1'), bytes.subarray(end)]));
  return out;
}

try {
  const video = makeTestVideo(tmp);
  const srv = await serve();
  const out = { date: new Date().toISOString(), cpu: cpus()[0].model, cores: cpus().length, load_before: loadavg()[0],
                seconds: SECONDS, video: '640x480 (make_test_video), one face' };
  // QUERIES="name=?query,...": other settings (e.g. two_threads=?ortvideothreads=2); MODEL=id: another model
  const runs = process.env.QUERIES ? process.env.QUERIES.split(',').map((q) => [q.slice(0, q.indexOf('=')), q.slice(q.indexOf('=') + 1)])
    : [['page', '']];
  const y4mAt = new Map(CAMERA_FPS.map((fps) => [fps, atFrameRate(video.y4m, fps)]));  // each written once
  for (const [name, query] of runs) for (const fps of CAMERA_FPS) {
    const r = await run(srv, y4mAt.get(fps), query);
    out[`${name}_camera_${fps}fps`] = {
      fps: +(r.frames * 1000 / r.ms).toFixed(2), camera_fps: +(r.seen * 1000 / r.ms).toFixed(2), frames: r.frames,
      camera_frames: r.seen, dropped_while_busy: r.dropped,
      frames_with_face: r.with_face, detector_frames: r.detected, size: r.size, model: r.model, isolated: r.isolated,
      reader: r.reader, start_ms: Math.round(r.startMs),
      median_ms: Object.fromEntries(Object.entries(r.stages).map(([k, a]) => [k, +med(a).toFixed(1)])),
      animation_frame_gap_ms: { median: +med(r.gaps).toFixed(1), p95: +pct(r.gaps, 0.95).toFixed(1), max: +Math.max(...r.gaps).toFixed(1) },
    };
  }
  out.load_after = loadavg()[0];
  srv.close();
  console.log(JSON.stringify(out, null, 2));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
