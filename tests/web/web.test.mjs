// Browser tests of dist/ (node --test tests/web/): Debian's Chromium headless,
// driven by playwright-core, against dist/ served by python3 -m http.server on
// 127.0.0.1. See docs/WEB.md.
//
//   FACEKEYS_DIST_DIR   the site (default dist/)
//   FACEKEYS_BIN        native `facekeys` for the parity test (default build/native/native/facekeys)
//   FACEKEYS_DATA_DIR   datasets (default ../shared/data)
//   FACEKEYS_WEB_ARTIFACTS  where screenshots go (default build/web-artifacts)
//
// Tests that need something missing (trained models in dist/, the native
// tool, the datasets) FAIL with a message saying what is missing; none is
// skipped silently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, mkdtempSync, symlinkSync, copyFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, openPage, secondVisit, twelveMegapixelJpeg, ROOT, DIST, DATA } from './harness.mjs';

const FACEKEYS = process.env.FACEKEYS_BIN || path.join(ROOT, 'build/native/native/facekeys');
const ARTIFACTS = process.env.FACEKEYS_WEB_ARTIFACTS || path.join(ROOT, 'build/web-artifacts');
const IMM = path.join(DATA, 'imm_face_db');
const LFPW = path.join(DATA, '300w/lfpw/testset');
// IMM test persons are 33-40 (the pack's validation split); LFPW's test set.
const IMM_FILES = ['33-1m.jpg', '36-2m.jpg', '40-6m.jpg'];
const LFPW_COUNT = 3;

let srv, b;
before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  srv = await serve();
  b = await openPage(srv);
});
after(async () => {
  if (b) {
    writeFileSync(path.join(ARTIFACTS, 'console.log'), b.logs.join('\n'));
    await b.close();
  }
  if (srv) srv.close();
});

const page = () => b.page;
const shippedModels = () => page().evaluate(() => window.facekeys.models());

function requireFile(p, what) {
  if (!existsSync(p)) assert.fail(`${what} missing: ${p}`);
  return p;
}
function lfpwFiles() {
  requireFile(LFPW, 'LFPW test set (FACEKEYS_DATA_DIR)');
  return readdirSync(LFPW).filter((f) => /\.(png|jpg)$/.test(f)).sort().slice(0, LFPW_COUNT).map((f) => path.join(LFPW, f));
}

// Upload through the file input and wait for this photo's result (or error).
async function upload(files) {
  const n = await page().evaluate(() => window.facekeys.photos().length);
  await page().setInputFiles('#file', files);
  await page().waitForFunction((k) => {
    const p = window.facekeys.photos()[k];
    return p && (p.result || (window.facekeys.status().error && !window.facekeys.status().message.endsWith('working...')));
  }, n, { timeout: 120000 });
  return page().evaluate((k) => ({ result: window.facekeys.photos()[k].result, status: window.facekeys.status() }), n);
}

// predict() on bytes made in Node (a File in the page).
async function predictBytes(buf, name, options = {}) {
  return page().evaluate(async ({ bytes, name, options }) => {
    const f = new File([new Uint8Array(bytes)], name);
    try { return { result: await window.facekeys.predict(f, options) }; } catch (e) {
      return { error: e.message, status: window.facekeys.status() };
    }
  }, { bytes: Array.from(buf), name, options });
}

// predict() on a photo generated in the page (drawn on a canvas).
async function predictGenerated(fnBody, name, options = {}) {
  return page().evaluate(async ({ fnBody, name, options }) => {
    const make = new Function('return (async () => {' + fnBody + '})()');
    const blob = await make();
    const f = new File([blob], name);
    try { return { result: await window.facekeys.predict(f, options), size: blob.size }; } catch (e) {
      return { error: e.message, status: window.facekeys.status() };
    }
  }, { fnBody, name, options });
}

function nativePredict(modelDir, files) {
  if (!existsSync(FACEKEYS))
    assert.fail(`native facekeys not built at ${FACEKEYS} (cmake --preset native && cmake --build --preset native), ` +
                'needed to compare the page with `facekeys predict`');
  const out = execFileSync(FACEKEYS, ['predict', '-m', modelDir, ...files], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return out.trim().split('\n').map((l) => JSON.parse(l));
}

function comparePoints(web, nat, label) {
  assert.equal(web.faces.length, nat.faces.length, `${label}: faces web ${web.faces.length} vs native ${nat.faces.length}`);
  let sum = 0, n = 0;
  for (let i = 0; i < web.faces.length; ++i) {
    const wf = web.faces[i], nf = nat.faces[i];
    for (let k = 0; k < 4; ++k)
      assert.ok(Math.abs(wf.box[k] - nf.box[k]) < 1.0, `${label}: face ${i} box ${wf.box} vs native ${nf.box}`);
    assert.equal(wf.points.length, nf.points.length, `${label}: face ${i} point count`);
    for (let k = 0; k < wf.points.length; ++k) {
      const p = wf.points[k], q = nf.points[k];
      if (!p || !q || p[0] === null || q[0] === null) continue;
      sum += Math.hypot(p[0] - q[0], p[1] - q[1]);
      ++n;
    }
  }
  return { mean: n ? sum / n : 0, n };
}

test('the page loads from dist/ and lists its models', async () => {
  const models = await shippedModels();
  assert.ok(models.length > 0,
    'dist/ has no keypoint models: put exported models in assets/models/<name>/ (model.onnx + model.json) ' +
    'or configure with -DFACEKEYS_WEB_MODELS_DIR=..., then rebuild (cmake --build --preset web)');
  assert.equal(models.filter((m) => m.default).length, 1);
  // A first visit: not reloaded for cross-origin isolation (coi.js only installs coi-sw.js for the
  // next visit), so ONNX Runtime runs on one thread.
  assert.equal(await page().evaluate(() => self.crossOriginIsolated), false, 'a first visit is isolated: by whom?');
  assert.equal(b.requests.filter((u) => new URL(u).pathname === '/index.html').length, 1, 'the page was loaded again');
  assert.deepEqual(await ortWorkerUrls(), ['onnx_worker.js?threads=1']);
});

// The URLs of the page's ONNX Runtime workers (their one setting, ?threads=N).
const ortWorkerUrls = () => page().evaluate(() => performance.getEntriesByType('resource').map((r) => r.name)
  .filter((n) => n.includes('/onnx_worker.js')).map((n) => n.slice(n.lastIndexOf('/') + 1)));

test('the default model is the one DEFAULT names, a 68-point face-box model; whole-image models carry a note', async () => {
  const models = await shippedModels();
  const index = JSON.parse(readFileSync(path.join(DIST, 'models/index.json'), 'utf8'));
  const def = models.find((m) => m.default);
  assert.ok(def, 'no default model');
  assert.equal(def.id, index.default, `models/index.json names '${index.default}' (assets/models/DEFAULT)`);
  // what every visitor sees must work on everyday photos: one crop per detected face
  assert.equal(def.schema, 'ibug68');
  assert.equal(def.crop.source, 'face-box');
  const photo = readFileSync(requireFile(path.join(IMM, IMM_FILES[0]), 'IMM image'));
  const note = async (model) => {
    const r = await predictBytes(photo, IMM_FILES[0], { model });
    assert.ok(r.result, `${model}: ${r.error}`);
    return page().evaluate(() => window.facekeys.view());
  };
  const imm = await wholeImageModel();
  const withImm = await note(imm.id);
  assert.equal(withImm.model, imm.id);
  assert.match(withImm.model_note, /frontal studio portrait filling the frame/);
  const withDefault = await note(def.id);
  assert.equal(withDefault.model, def.id);
  assert.equal(withDefault.model_note, '');
});

test('the default rule in the page: a name that is not shipped, or none, gives the first model in name order', async () => {
  // A copy of dist/ (symbolic links) whose models/index.json names a folder that is not there,
  // then none: the page applies the core's default_model_name, as `facekeys predict` does
  // (tests/predict: "the default model follows assets/models/DEFAULT").
  const index = JSON.parse(readFileSync(path.join(DIST, 'models/index.json'), 'utf8'));
  const first = [...index.models].sort()[0];
  for (const named of ['gone-model', '']) {
    const site = mkdtempSync(path.join(tmpdir(), 'facekeys-default-'));
    for (const e of readdirSync(DIST)) if (e !== 'models') symlinkSync(path.join(DIST, e), path.join(site, e));
    mkdirSync(path.join(site, 'models'));
    for (const e of readdirSync(path.join(DIST, 'models')))
      if (e !== 'index.json') symlinkSync(path.join(DIST, 'models', e), path.join(site, 'models', e));
    writeFileSync(path.join(site, 'models/index.json'), JSON.stringify({ default: named, models: index.models }));
    const srv2 = await serve(site);
    const b2 = await openPage(srv2);
    try {
      const models = await b2.page.evaluate(() => window.facekeys.models());
      assert.deepEqual(models.filter((m) => m.default).map((m) => m.id), [first], `index.json naming '${named}'`);
      if (named) assert.ok(b2.logs.some((l) => l.includes(`'${named}' is not here: using '${first}'`)), b2.logs.join('\n'));
    } finally {
      await b2.close();
      srv2.close();
      rmSync(site, { recursive: true, force: true });
    }
  }
});

// The whole pipeline of the page (decode, UltraFace, crop, model, decoding) with the default
// model on the 224 LFPW test photos, in this one page session. Scored as the native test does
// (tests/predict/test_predict.cpp, "the default model on the 224 LFPW test photos"): the face
// whose box centre is nearest the centre of the ground truth's bounding box, NME from the core's
// nme_per_image (facekeys.nme: outer eye corners), a photo with no face or an undecoded point
// counts as NME 1.
function readPts(file) {
  const nums = readFileSync(file, 'utf8').split('{')[1].split('}')[0].trim().split(/\s+/).map(Number);
  const pts = [];
  for (let i = 0; i + 1 < nums.length; i += 2) pts.push([nums[i] - 1, nums[i + 1] - 1]);
  return pts;
}

test('the default model on the 224 LFPW test photos through the page: mean NME <= 0.04', { timeout: 900000 }, async () => {
  requireFile(LFPW, 'LFPW test set (FACEKEYS_DATA_DIR)');
  const files = readdirSync(LFPW).filter((f) => f.endsWith('.png')).sort();
  assert.equal(files.length, 224);
  const def = (await shippedModels()).find((m) => m.default);
  const t0 = Date.now();
  const nmes = [];
  let missed = 0, undecoded = 0;
  for (const f of files) {
    const truth = readPts(path.join(LFPW, f.replace(/\.png$/, '.pts')));
    assert.equal(truth.length, 68, f);
    const r = await page().evaluate(async ({ b64, name, truth }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      let result;
      try { result = await window.facekeys.predict(new File([bytes], name)); } catch (e) { return { error: e.message }; }
      const xs = truth.map((p) => p[0]), ys = truth.map((p) => p[1]);
      const cx = (Math.min(...xs) + Math.max(...xs)) / 2, cy = (Math.min(...ys) + Math.max(...ys)) / 2;
      let best = null, bestD = Infinity;
      for (const face of result.faces) {
        const d = Math.hypot(face.box[0] + face.box[2] / 2 - cx, face.box[1] + face.box[3] / 2 - cy);
        if (d < bestD) { best = face; bestD = d; }
      }
      if (!best) return { model: result.model, faces: 0 };
      return { model: result.model, faces: result.faces.length, nme: window.facekeys.nme(best.points, truth, 'ibug68') };
    }, { b64: readFileSync(path.join(LFPW, f)).toString('base64'), name: f, truth });
    assert.ok(!r.error, `${f}: ${r.error}`);
    assert.equal(r.model, def.name, f);
    if (!r.faces) { ++missed; nmes.push(1); continue; }
    if (!Number.isFinite(r.nme)) { ++undecoded; nmes.push(1); continue; }
    nmes.push(r.nme);
  }
  const mean = nmes.reduce((a, v) => a + v, 0) / nmes.length;
  const seconds = (Date.now() - t0) / 1000;
  console.log(`${def.id} on ${nmes.length} LFPW test photos through the page: mean NME ${mean.toFixed(5)}, ` +
              `no face ${missed}, undecoded ${undecoded}, NME > 0.10: ${nmes.filter((v) => v > 0.1).length} (${seconds.toFixed(0)} s)`);
  assert.ok(missed + undecoded <= 2, `${missed} photos without a face, ${undecoded} with undecoded points`);
  assert.ok(mean <= 0.04, `mean NME ${mean.toFixed(4)} > 0.04`);
});

test('upload: IMM and LFPW test images match `facekeys predict` (same faces, mean point difference <= 0.5 px)', async () => {
  const models = await shippedModels();
  assert.ok(models.length > 0, 'no models in dist/');
  const files = [...IMM_FILES.map((f) => requireFile(path.join(IMM, f), 'IMM image')), ...lfpwFiles()];
  // the default model through the file input, every other model through predict()
  const def = models.find((m) => m.default);
  const nat = nativePredict(path.join(DIST, 'models', def.id), files);
  for (let i = 0; i < files.length; ++i) {
    const { result, status } = await upload(files[i]);
    assert.ok(result, `${files[i]}: no result in the page: ${status.message}`);
    const { mean, n } = comparePoints(result, nat[i], `${def.id} ${path.basename(files[i])}`);
    assert.ok(mean <= 0.5, `${def.id} ${path.basename(files[i])}: mean point difference ${mean.toFixed(3)} px over ${n} points`);
    assert.equal(result.width, nat[i].width);
    assert.equal(result.model, nat[i].model);
    // 68-point faces carry the head pose and openness (the core's, in both front ends).
    for (let f = 0; f < result.faces.length; ++f) {
      const wf = result.faces[f], nf = nat[i].faces[f];
      assert.equal(!!wf.pose, !!nf.pose, `${path.basename(files[i])}: pose in one front end only`);
      if (!wf.pose) continue;
      for (const k of ['yaw', 'pitch', 'roll'])
        assert.ok(Math.abs(wf.pose[k] - nf.pose[k]) <= 1, `${path.basename(files[i])}: ${k} ${wf.pose[k]} vs ${nf.pose[k]}`);
      assert.ok(Math.abs(wf.mouth - nf.mouth) <= 0.02 && Math.abs(wf.eyes.left - nf.eyes.left) <= 0.02);
    }
    for (const k of ['decode', 'detect', 'preprocess', 'infer', 'total']) assert.equal(typeof result.timing_ms[k], 'number');
  }
  for (const m of models.filter((x) => !x.default)) {
    const some = [files[0], files[files.length - 1]];
    const natm = nativePredict(path.join(DIST, 'models', m.id), some);
    for (let i = 0; i < some.length; ++i) {
      const r = await predictBytes(readFileSync(some[i]), path.basename(some[i]), { model: m.id });
      assert.ok(r.result, `${m.id} ${some[i]}: ${r.error}`);
      const { mean, n } = comparePoints(r.result, natm[i], `${m.id} ${path.basename(some[i])}`);
      assert.ok(mean <= 0.5, `${m.id} ${path.basename(some[i])}: mean point difference ${mean.toFixed(3)} px over ${n} points`);
    }
  }
});

// An IMM photo upscaled to 4000x3000 in the page, as tests/web/bench.mjs measures.
const twelveMegapixelImm = (immFile) => twelveMegapixelJpeg(page(), readFileSync(requireFile(path.join(IMM, immFile), 'IMM image')));

// A JPEG with an APP1 Exif segment "orientation N" (6: rotate 90 degrees clockwise to display),
// as tests/predict/test_predict.cpp builds it for the native tool.
function exifRotatedJpeg(jpg, orientation = 6) {
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  const app1 = [0xff, 0xe1, 0, 0, 0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  app1[2] = (app1.length - 2) >> 8;
  app1[3] = (app1.length - 2) & 0xff;
  return Buffer.concat([jpg.subarray(0, 2), Buffer.from(app1), jpg.subarray(2)]);
}

test('EXIF orientation is applied: a JPEG tagged "rotate 90" matches `facekeys predict`', async () => {
  const def = (await shippedModels()).find((m) => m.default);
  const dir = mkdtempSync(path.join(tmpdir(), 'facekeys-exif-'));
  try {
    const file = path.join(dir, 'rotated.jpg');
    writeFileSync(file, exifRotatedJpeg(readFileSync(requireFile(path.join(IMM, '01-1m.jpg'), 'IMM image'))));
    const [nat] = nativePredict(path.join(DIST, 'models', def.id), [file]);
    const r = await predictBytes(readFileSync(file), 'rotated.jpg', { model: def.id });
    assert.ok(r.result, r.error);
    assert.deepEqual([r.result.width, r.result.height], [480, 640]);
    assert.deepEqual([nat.width, nat.height], [480, 640]);
    const { mean, n } = comparePoints(r.result, nat, 'rotated.jpg');
    assert.ok(mean <= 0.5, `rotated.jpg: mean point difference ${mean.toFixed(3)} px over ${n} points`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

// The shipped whole-image (IMM) model: the tests of the 1/4-scale decode need one.
async function wholeImageModel() {
  const models = await shippedModels();
  const imm = models.find((m) => m.crop.source === 'whole-image' && m.schema === 'imm58');
  assert.ok(imm, `no whole-image (IMM) model among the shipped models: ${models.map((m) => m.id).join(', ')}`);
  return imm;
}

test('a 12-megapixel JPEG is decoded at reduced scale and agrees with `facekeys predict` (full decode)', async () => {
  const def = await wholeImageModel();  // decoded at 1/4 scale: 1000x750
  const bytes = await twelveMegapixelImm('33-1m.jpg');
  const dir = mkdtempSync(path.join(tmpdir(), 'facekeys-12mp-'));
  try {
    // upright, and tagged with EXIF orientations (the scaled decoder reports them as a turn and a
    // mirror, which the module applies): 6 rotate 90, 3 rotate 180, 5 and 7 mirrored and turned
    const cases = [{ name: 'big.jpg', buf: bytes, size: [4000, 3000] },
                   { name: 'big_rotated.jpg', buf: exifRotatedJpeg(bytes), size: [3000, 4000] },
                   { name: 'big_exif3.jpg', buf: exifRotatedJpeg(bytes, 3), size: [4000, 3000] },
                   { name: 'big_exif5.jpg', buf: exifRotatedJpeg(bytes, 5), size: [3000, 4000] },
                   { name: 'big_exif7.jpg', buf: exifRotatedJpeg(bytes, 7), size: [3000, 4000] }];
    for (const c of cases) writeFileSync(path.join(dir, c.name), c.buf);
    const nat = nativePredict(path.join(DIST, 'models', def.id), cases.map((c) => path.join(dir, c.name)));
    for (let i = 0; i < cases.length; ++i) {
      const c = cases[i];
      const logsBefore = b.logs.length;
      const r = await predictBytes(c.buf, c.name, { model: def.id });
      assert.ok(r.result, r.error);
      assert.ok(!b.logs.slice(logsBefore).some((l) => l.includes('scaled JPEG decoding failed')), `${c.name}: fell back to a full decode`);
      assert.deepEqual([r.result.width, r.result.height], c.size, c.name);
      assert.deepEqual([nat[i].width, nat[i].height], c.size, c.name);
      assert.equal(r.result.faces.length, 1, c.name);
      assert.equal(nat[i].faces.length, 1, c.name);
      // The page decodes the photo at 1/4 scale (1000x750: enough for a whole-image model and the
      // detector), the native tool in full:
      // boxes agree to a small fraction of the ~1200 px face; points (measured: 0.42 px apart, 1.41 px
      // rotated) to 4 px.
      const wf = r.result.faces[0], nf = nat[i].faces[0];
      for (let k = 0; k < 4; ++k) assert.ok(Math.abs(wf.box[k] - nf.box[k]) < 20, `${c.name}: box ${wf.box} vs native ${nf.box}`);
      let sum = 0;
      for (let k = 0; k < wf.points.length; ++k) sum += Math.hypot(wf.points[k][0] - nf.points[k][0], wf.points[k][1] - nf.points[k][1]);
      const mean = sum / wf.points.length;
      console.log(`${c.name}: mean point difference page vs native ${mean.toFixed(2)} px`);
      assert.ok(mean <= 4, `${c.name}: mean point difference ${mean.toFixed(2)} px`);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a small face in a large photo: the page decodes it again, finer, for the face-box model\'s crop', async () => {
  const models = await shippedModels();
  const def = models.find((m) => m.default);
  assert.equal(def.crop.source, 'face-box', 'the default model crops face boxes');
  const dir = mkdtempSync(path.join(tmpdir(), 'facekeys-finer-'));
  try {
    // An LFPW face drawn 400 px wide into a 4000x3000 JPEG: decoded first at 1/4 for detection
    // (keypoint_min_work_pixels), where its crop would get under one pixel per model input pixel.
    const lfpw = readFileSync(lfpwFiles()[0]);
    const bytes = Buffer.from(await page().evaluate(async (b) => {
      const bm = await createImageBitmap(new Blob([new Uint8Array(b)]));
      const c = new OffscreenCanvas(4000, 3000);
      const ctx = c.getContext('2d');
      ctx.fillStyle = '#8a9';
      ctx.fillRect(0, 0, 4000, 3000);
      ctx.drawImage(bm, 2500, 900, 400, 400 * bm.height / bm.width);
      return Array.from(new Uint8Array(await (await c.convertToBlob({ type: 'image/jpeg', quality: 0.92 })).arrayBuffer()));
    }, Array.from(lfpw)));
    const file = path.join(dir, 'small_face.jpg');
    writeFileSync(file, bytes);
    const r = await predictBytes(bytes, 'small_face.jpg', { model: def.id });
    assert.ok(r.result, r.error);
    assert.equal(r.result.faces.length, 1);
    assert.ok(r.result.timing_ms.finer_decode > 0, `no finer decode: ${JSON.stringify(r.result.timing_ms)}`);
    const [nat] = nativePredict(path.join(DIST, 'models', def.id), [file]);
    assert.equal(nat.faces.length, 1);
    const { mean } = comparePoints(r.result, nat, 'small face');
    console.log(`small face in a 12 MP photo, decoded again: mean point difference page vs native ${mean.toFixed(2)} px`);
    assert.ok(mean <= 0.5, `mean point difference ${mean.toFixed(2)} px`);
    // A large face in the same kind of photo needs no second decode.
    const big = await twelveMegapixelImm('36-2m.jpg');
    const r2 = await predictBytes(big, 'big_face.jpg', { model: def.id });
    assert.ok(r2.result && r2.result.faces.length === 1, r2.error);
    assert.equal(r2.result.timing_ms.finer_decode, undefined, 'a large face was decoded twice');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the overlay renders: pixels at the points differ from the bare photo; screenshot saved', async () => {
  const def = (await shippedModels()).find((m) => m.default);
  const r0 = await predictBytes(readFileSync(requireFile(path.join(IMM, IMM_FILES[0]), 'IMM image')), IMM_FILES[0], { model: def.id });
  const result = r0.result;
  assert.ok(result && result.faces.length && result.faces[0].points.length, `no points to draw: ${r0.error}`);
  await page().evaluate(() => window.facekeys.setOverlay(true));
  await page().waitForTimeout(300);
  const withOverlay = await page().locator('#canvas').screenshot({ path: path.join(ARTIFACTS, 'overlay.png') });
  await page().evaluate(() => window.facekeys.setOverlay(false));
  await page().waitForTimeout(300);
  const bare = await page().locator('#canvas').screenshot({ path: path.join(ARTIFACTS, 'bare.png') });
  await page().evaluate(() => window.facekeys.setOverlay(true));
  const stats = await page().evaluate(async ({ a, b, pts }) => {
    const load = async (bytes) => {
      const bm = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
      const c = new OffscreenCanvas(bm.width, bm.height);
      const x = c.getContext('2d');
      x.drawImage(bm, 0, 0);
      return x.getImageData(0, 0, bm.width, bm.height);
    };
    const A = await load(a), B = await load(b);
    const v = window.facekeys.view();
    const sx = A.width / v.canvas_width, sy = A.height / v.canvas_height;  // CSS px vs buffer px
    let inside = 0, differ = 0;
    const [px, py, pw, ph] = v.panel;  // the ImGui panel is drawn over the photo
    for (const p of pts) {
      const cx = (p[0] + 0.5) * v.scale + v.ox, cy = (p[1] + 0.5) * v.scale + v.oy;
      if (cx >= px - 4 && cx <= px + pw + 4 && cy >= py - 4 && cy <= py + ph + 4) continue;
      const X = Math.round(cx * sx), Y = Math.round(cy * sy);
      if (X < 1 || Y < 1 || X >= A.width - 1 || Y >= A.height - 1) continue;
      ++inside;
      let d = 0;
      for (let c = 0; c < 3; ++c) d = Math.max(d, Math.abs(A.data[(Y * A.width + X) * 4 + c] - B.data[(Y * A.width + X) * 4 + c]));
      if (d > 30) ++differ;
    }
    return { inside, differ };
  }, { a: Array.from(withOverlay), b: Array.from(bare), pts: result.faces[0].points.filter(Boolean) });
  assert.ok(stats.inside > 0, 'no point inside the canvas');
  assert.ok(stats.differ >= 0.8 * stats.inside, `only ${stats.differ} of ${stats.inside} points changed the pixels`);
  // the exported PNG: the photo's size
  const dims = await page().evaluate(async () => {
    const blob = await window.facekeys.overlayPng();
    const bm = await createImageBitmap(blob);
    return [bm.width, bm.height, blob.type];
  });
  assert.deepEqual(dims, [result.width, result.height, 'image/png']);
});

test('the mouse wheel zooms the view about the cursor, 1.15x a notch (a mouse\'s 100 px, or a touchpad\'s fraction)', async () => {
  const def = (await shippedModels()).find((m) => m.default);
  await predictBytes(readFileSync(requireFile(path.join(IMM, IMM_FILES[0]), 'IMM image')), IMM_FILES[0], { model: def.id });
  const box = await page().locator('#canvas').boundingBox();
  const at = { x: box.x + 700, y: box.y + 300 };  // over the photo, right of the panel
  const view = () => page().evaluate(() => window.facekeys.view());
  // the photo's point under the cursor
  const under = (v) => [(at.x - box.x - v.ox) / v.scale, (at.y - box.y - v.oy) / v.scale];
  await page().mouse.move(at.x, at.y);
  const steps = [[-100, 1.15], [100, 1 / 1.15], [-25, Math.pow(1.15, 0.25)]];  // up a notch, down a notch, a touchpad's quarter
  for (const [dy, factor] of steps) {
    const v0 = await view();
    await page().mouse.wheel(0, dy);
    await page().waitForFunction((s) => window.facekeys.view().scale !== s, v0.scale, { timeout: 5000 });
    const v1 = await view();
    assert.ok(Math.abs(v1.scale / v0.scale - factor) < 1e-3, `wheel ${dy}: zoomed ${v1.scale / v0.scale}x, not ${factor}x`);
    const [a, b] = [under(v0), under(v1)];
    assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1]) * v1.scale < 1.5, `wheel ${dy}: the point under the cursor moved`);
  }
});

test('a phone-sized window: the photo below the panel; the panel collapsed, the photo across the width', async () => {
  const file = path.join(IMM, IMM_FILES[0]);
  try {
    await page().setViewportSize({ width: 390, height: 844 });
    await predictBytes(readFileSync(requireFile(file, 'IMM image')), IMM_FILES[0], {});
    await page().waitForTimeout(300);
    const v = await page().evaluate(() => window.facekeys.view());
    const [px, py, , ph] = v.panel;
    assert.ok(v.oy >= py + ph, `the photo (top ${v.oy}) is not below the panel (bottom ${py + ph})`);
    assert.ok(v.ox >= 0 && v.ox < 40, `the photo starts at x ${v.ox}`);
    // the panel's title bar: a click on its arrow collapses it, and the photo is fitted again to the canvas
    // below the title bar (a landscape photo on an upright phone: as wide, centred higher)
    const box = await page().locator('#canvas').boundingBox();
    await page().mouse.click(box.x + px + 11, box.y + py + 9);
    await page().waitForFunction((oy) => window.facekeys.view().oy < oy, v.oy, { timeout: 5000 });
    const c = await page().evaluate(() => window.facekeys.view());
    const [, cy, , ch] = c.panel;
    assert.ok(ch < 40, `the panel is ${ch} px high after the click`);
    assert.ok(c.scale >= v.scale && c.oy >= cy + ch, `collapsed: scale ${c.scale} (was ${v.scale}), top ${c.oy}`);
    const mid = c.oy + 480 * c.scale / 2;  // IMM photos are 640x480
    assert.ok(Math.abs(mid - (cy + ch + c.canvas_height) / 2) < 12, `collapsed: the photo's middle at ${mid}`);
    await page().mouse.click(box.x + px + 11, box.y + py + 9);  // open again
    await page().waitForFunction(() => window.facekeys.view().panel[3] > 100, null, { timeout: 5000 });
  } finally {
    await page().setViewportSize({ width: 1280, height: 800 });
  }
});

test('a phone\'s screen (devicePixelRatio 2): the panel and its font at twice the pixels, the photo fitted below it', async () => {
  const phone = await openPage(srv, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  try {
    const r = await phone.page.evaluate(async (bytes) => {
      await window.facekeys.predict(new File([new Uint8Array(bytes)], 'photo.jpg'));
      await new Promise((res) => setTimeout(res, 300));
      const c = document.getElementById('canvas');
      return { view: window.facekeys.view(), buffer: [c.width, c.height], css: [c.clientWidth, c.clientHeight] };
    }, Array.from(readFileSync(requireFile(path.join(IMM, IMM_FILES[0]), 'IMM image'))));
    assert.deepEqual(r.buffer, [2 * r.css[0], 2 * r.css[1]], 'the canvas has 2 device pixels a CSS pixel');
    const [px, py, pw, ph] = r.view.panel;  // device pixels
    assert.deepEqual([px, py, pw], [20, 20, 560], 'the panel at twice its size');
    assert.ok(ph > 700, `the panel is ${ph} px high: its font not scaled?`);
    assert.ok(r.view.oy >= py + ph, 'the photo below the panel');
    await phone.page.screenshot({ path: path.join(ARTIFACTS, 'phone-dpr2.png') });
  } finally {
    await phone.close();
  }
});

test('one look: the page\'s "Export PNG" is `facekeys predict --overlay`\'s image of the same photo', async () => {
  // LFPW test photos: PNGs, which Chromium and OpenCV decode to the same pixels.
  const files = lfpwFiles().slice(0, 2);
  const models = await shippedModels();
  const def = models.find((m) => m.default);
  for (const file of files) {
    const native = path.join(ARTIFACTS, `one_look_native_${path.basename(file)}`);
    execFileSync(FACEKEYS, ['predict', '-m', path.join(DIST, 'models', def.id), file, '--overlay', native], { encoding: 'utf8' });
    const r = await predictBytes(readFileSync(file), path.basename(file));
    assert.ok(r.result && r.result.faces.length > 0, `${file}: ${r.error}`);
    const stats = await page().evaluate(async ({ nativePng, photo }) => {
      const pixels = async (blob) => {
        const bm = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const c = new OffscreenCanvas(bm.width, bm.height);
        const ctx = c.getContext('2d');
        ctx.drawImage(bm, 0, 0);
        return ctx.getImageData(0, 0, bm.width, bm.height);
      };
      const web = await pixels(await window.facekeys.overlayPng());
      const nat = await pixels(new Blob([new Uint8Array(nativePng)]));
      const bare = await pixels(new Blob([new Uint8Array(photo)]));
      if (web.width !== nat.width || web.height !== nat.height) return { size: [web.width, web.height, nat.width, nat.height] };
      let differ = 0, drawn = 0, sum = 0;
      for (let i = 0; i < web.data.length; i += 4) {
        let d = 0, o = 0;
        for (let c = 0; c < 3; ++c) {
          d = Math.max(d, Math.abs(web.data[i + c] - nat.data[i + c]));
          o = Math.max(o, Math.abs(nat.data[i + c] - bare.data[i + c]));
          sum += Math.abs(web.data[i + c] - nat.data[i + c]);
        }
        if (d > 48) ++differ;
        if (o > 48) ++drawn;
      }
      const n = web.data.length / 4;
      return { differ: differ / n, drawn: drawn / n, mean: sum / (3 * n) };
    }, { nativePng: Array.from(readFileSync(native)), photo: Array.from(readFileSync(file)) });
    assert.ok(!stats.size, `${file}: sizes differ ${stats.size}`);
    assert.ok(stats.drawn > 0.005, `${file}: the native overlay changed only ${stats.drawn} of the pixels`);
    // The same primitives, rasterised by the same code: only points that differ by a fraction of a
    // pixel between OpenCV DNN and ONNX Runtime move an edge's anti-aliasing.
    assert.ok(stats.differ <= 0.002, `${file}: ${(100 * stats.differ).toFixed(3)}% of the pixels differ (mean ${stats.mean.toFixed(3)})`);
    assert.ok(stats.mean <= 0.2, `${file}: mean difference ${stats.mean.toFixed(3)} levels`);
  }
});

test('the heatmap model: the heatmap view draws its maps over the face', async () => {
  const hm = (await shippedModels()).find((m) => m.output === 'heatmaps');
  assert.ok(hm, 'no heatmap model among the shipped models (assets/models/<name>/ with output.kind "heatmaps")');
  const file = lfpwFiles()[0];
  const r = await predictBytes(readFileSync(file), path.basename(file), { model: hm.id });
  assert.ok(r.result && r.result.faces.length === 1 && r.result.faces[0].points.length === 68, `${hm.id}: ${r.error}`);
  const shot = async (on, name) => {
    await page().evaluate((v) => window.facekeys.setHeatmap(v), on);
    await page().waitForTimeout(300);
    return page().locator('#canvas').screenshot({ path: path.join(ARTIFACTS, name) });
  };
  const withMaps = await shot(true, 'heatmap.png');
  const without = await shot(false, 'heatmap_off.png');
  // Inside the face box (clear of the panel) most pixels change: the maps are drawn over the crop.
  const changed = await page().evaluate(async ({ a, b, box }) => {
    const load = async (bytes) => {
      const bm = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
      const c = new OffscreenCanvas(bm.width, bm.height);
      c.getContext('2d').drawImage(bm, 0, 0);
      return c.getContext('2d').getImageData(0, 0, bm.width, bm.height);
    };
    const A = await load(a), B = await load(b);
    const v = window.facekeys.view();
    const sx = A.width / v.canvas_width, sy = A.height / v.canvas_height;
    const [px, py, pw, ph] = v.panel;
    let n = 0, differ = 0;
    for (let y = box[1] + 0.2 * box[3]; y < box[1] + 0.8 * box[3]; y += box[3] / 40) {
      for (let x = box[0] + 0.2 * box[2]; x < box[0] + 0.8 * box[2]; x += box[2] / 40) {
        const cx = (x + 0.5) * v.scale + v.ox, cy = (y + 0.5) * v.scale + v.oy;
        if (cx >= px && cx <= px + pw && cy >= py && cy <= py + ph) continue;
        const X = Math.round(cx * sx), Y = Math.round(cy * sy);
        if (X < 0 || Y < 0 || X >= A.width || Y >= A.height) continue;
        ++n;
        let d = 0;
        for (let c = 0; c < 3; ++c) d = Math.max(d, Math.abs(A.data[(Y * A.width + X) * 4 + c] - B.data[(Y * A.width + X) * 4 + c]));
        if (d > 20) ++differ;
      }
    }
    return { n, differ };
  }, { a: Array.from(withMaps), b: Array.from(without), box: r.result.faces[0].box });
  assert.ok(changed.n > 100, `only ${changed.n} samples of the face box are visible`);
  assert.ok(changed.differ >= 0.5 * changed.n, `the heatmap view changed ${changed.differ} of ${changed.n} face-box samples`);
});

test('drag and drop, paste', async () => {
  const bytes = Array.from(readFileSync(requireFile(path.join(IMM, IMM_FILES[1]), 'IMM image')));
  for (const how of ['drop', 'paste']) {
    const n = await page().evaluate(() => window.facekeys.photos().length);
    await page().evaluate(({ bytes, how }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], `${how}.jpg`, { type: 'image/jpeg' }));
      if (how === 'drop') window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      else document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, { bytes, how });
    await page().waitForFunction((k) => window.facekeys.photos()[k] && window.facekeys.photos()[k].result, n, { timeout: 60000 });
    const r = await page().evaluate((k) => window.facekeys.photos()[k].result, n);
    assert.equal(r.image, `${how}.jpg`);
    assert.ok(r.faces.length >= 1, `${how}: no face`);
  }
});

// After each bad input: a clear message, and the next photo still works.
async function expectError(r, pattern, label) {
  assert.ok(r.error, `${label}: expected an error, got ${JSON.stringify(r.result || {}).slice(0, 200)}`);
  assert.match(r.error, pattern, label);
  const st = await page().evaluate(() => window.facekeys.status());
  assert.match(st.error, pattern, `${label}: the page shows '${st.message}'`);
  const view = await page().evaluate(() => window.facekeys.view());
  assert.equal(view.photo, '', `${label}: the previous photo (${view.photo}) is still shown`);
  assert.equal(view.faces, 0, `${label}: the previous photo's ${view.faces} faces are still shown`);
  await expectStillWorks(label);
}
async function expectStillWorks(label) {
  const ok = await predictBytes(readFileSync(path.join(IMM, IMM_FILES[0])), 'after.jpg');
  assert.ok(ok.result && ok.result.faces.length === 1, `${label}: the page does not work afterwards: ${ok.error}`);
}

test('bad input: non-image, corrupt, truncated, 0 bytes', async () => {
  const jpg = readFileSync(path.join(IMM, IMM_FILES[0]));
  await expectError(await predictBytes(Buffer.from('hello, this is not an image\n'), 'notes.txt'), /not a JPEG, PNG or WebP/, 'text');
  const corrupt = Buffer.concat([jpg.subarray(0, 3), Buffer.alloc(5000, 0x5a), Buffer.from([0xff, 0xd9])]);
  await expectError(await predictBytes(corrupt, 'corrupt.jpg'), /corrupt|cannot be decoded/, 'corrupt');
  await expectError(await predictBytes(jpg.subarray(0, jpg.length >> 1), 'truncated.jpg'), /truncated/, 'truncated');
  await expectError(await predictBytes(Buffer.alloc(0), 'empty.jpg'), /empty file/, '0 bytes');
  const png = readFileSync(lfpwFiles()[0]);
  await expectError(await predictBytes(png.subarray(0, png.length >> 1), 'truncated.png'), /truncated/, 'truncated png');
  const webp = Buffer.from(await page().evaluate(async () => {
    const c = new OffscreenCanvas(96, 64);
    c.getContext('2d').fillRect(10, 10, 40, 30);
    return Array.from(new Uint8Array(await (await c.convertToBlob({ type: 'image/webp' })).arrayBuffer()));
  }));
  await expectError(await predictBytes(webp.subarray(0, webp.length >> 1), 'truncated.webp'), /WebP file is truncated/, 'truncated webp');
  // A PNG header claiming 20000 x 10000: refused before decoding, as `facekeys predict` does.
  const ihdr = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).copy(ihdr);
  ihdr.write('IHDR', 12, 'latin1');
  ihdr.writeUInt32BE(20000, 16);
  ihdr.writeUInt32BE(10000, 20);
  ihdr[24] = 8; ihdr[25] = 2;
  const huge = Buffer.concat([ihdr, Buffer.from([0, 0, 0, 0]), Buffer.from('IEND', 'latin1'), Buffer.from([0xae, 0x42, 0x60, 0x82])]);
  await expectError(await predictBytes(huge, 'huge.png'), /200 megapixels\), over the limit of 100 megapixels/, 'huge png');
  // A phone's motion photo: the JPEG, then megabytes of video after its end marker.
  const motion = await predictBytes(Buffer.concat([jpg, Buffer.alloc(2 << 20, 0x20)]), 'motion.jpg');
  assert.ok(motion.result && motion.result.faces.length === 1, `motion photo: ${motion.error}`);
});

test('a JPEG whose compressed data is damaged in the middle is refused; the check on a 12-megapixel JPEG is timed', async () => {
  // The browser draws these with grey blocks and no error; the core's scan check refuses them,
  // as `facekeys predict` does with libjpeg (the same two damages as its test, and a scan cut short).
  const jpg = readFileSync(path.join(IMM, '01-1m.jpg'));
  const zeroed = Buffer.from(jpg);
  zeroed.fill(0, 3000, 9000);
  await expectError(await predictBytes(zeroed, 'zeroed.jpg'), /zeroed\.jpg: corrupt JPEG data: /, 'zeroed middle');
  const noisy = Buffer.from(jpg);
  for (let i = 5000; i < 5400; ++i) noisy[i] = (i * 7919) & 0xff;
  await expectError(await predictBytes(noisy, 'noisy.jpg'), /noisy\.jpg: corrupt JPEG data: /, 'noisy middle');
  const cut = Buffer.concat([jpg.subarray(0, jpg.length >> 1), Buffer.from([0xff, 0xd9])]);
  await expectError(await predictBytes(cut, 'cut.jpg'), /cut\.jpg: corrupt JPEG data: premature end of data segment/, 'scan cut short');
  // Its cost, against the rest of the decoding, on a 12-megapixel JPEG (4000x3000, quality 0.92).
  const big = await twelveMegapixelImm('33-1m.jpg');
  const runs = [];
  for (let i = 0; i < 5; ++i) {
    const r = await predictBytes(big, `big${i}.jpg`);
    assert.ok(r.result, r.error);
    const scan = (await page().evaluate(() => window.facekeys.status())).jpegScanMs;
    runs.push({ scan, decode: r.result.timing_ms.decode });
  }
  const med = (xs) => xs.slice().sort((a, c) => a - c)[xs.length >> 1];
  const scan = med(runs.map((x) => x.scan)), decode = med(runs.map((x) => x.decode));
  console.log(`12 MP JPEG (${(big.length / 1e6).toFixed(2)} MB): scan check ${scan.toFixed(1)} ms of the page's decode ${decode.toFixed(1)} ms ` +
              `(median of 5; runs ${JSON.stringify(runs.map((x) => [Math.round(x.scan), Math.round(x.decode)]))})`);
  // It must not double the decoding: the check is under half of the decode time it is part of.
  assert.ok(scan < decode / 2, `scan check ${scan} ms vs decode ${decode} ms`);
});

test('bad input: no face, twenty faces, a 50-megapixel photo', async () => {
  const noFace = await predictGenerated(`
    const c = new OffscreenCanvas(640, 480), x = c.getContext('2d');
    const g = x.createLinearGradient(0, 0, 640, 480); g.addColorStop(0, '#224'); g.addColorStop(1, '#aa8');
    x.fillStyle = g; x.fillRect(0, 0, 640, 480);
    return c.convertToBlob({ type: 'image/png' });`, 'gradient.png');
  assert.ok(noFace.result, noFace.error);
  assert.equal(noFace.result.faces.length, 0);
  assert.match((await page().evaluate(() => window.facekeys.status())).message, /no face found/i);

  // twenty IMM faces tiled 5 x 4
  const imm = readdirSync(IMM).filter((f) => f.endsWith('.jpg')).sort().slice(0, 20).map((f) => Array.from(readFileSync(path.join(IMM, f))));
  const twenty = await page().evaluate(async (imgs) => {
    const c = new OffscreenCanvas(5 * 640, 4 * 480), x = c.getContext('2d');
    for (let i = 0; i < imgs.length; ++i) {
      const bm = await createImageBitmap(new Blob([new Uint8Array(imgs[i])]));
      x.drawImage(bm, (i % 5) * 640, Math.floor(i / 5) * 480);
    }
    const f = new File([await c.convertToBlob({ type: 'image/jpeg', quality: 0.92 })], 'twenty.jpg');
    try { return { result: await window.facekeys.predict(f) }; } catch (e) { return { error: e.message }; }
  }, imm);
  assert.ok(twenty.result, twenty.error);
  assert.ok(twenty.result.faces.length >= 18 && twenty.result.faces.length <= 22, `twenty faces: found ${twenty.result.faces.length}`);

  const big = await predictGenerated(`
    const W = 8660, H = 5774;  // 50 megapixels
    const c = new OffscreenCanvas(W, H), x = c.getContext('2d');
    x.fillStyle = '#456'; x.fillRect(0, 0, W, H);
    x.fillStyle = '#fc9'; x.beginPath(); x.ellipse(W / 2, H / 2, 900, 1200, 0, 0, 7); x.fill();
    return c.convertToBlob({ type: 'image/jpeg', quality: 0.8 });`, 'big50mp.jpg');
  assert.ok(big.result, `50 MP: ${big.error}`);
  assert.equal(big.result.width, 8660);
  assert.equal(big.result.height, 5774);
  await expectStillWorks('50 MP');
});

test('a model file that fails to load or is not the card\'s: a message, the page keeps working', async () => {
  const models = await shippedModels();
  assert.ok(models.length > 0, 'no models in dist/');
  // A copy of dist/ (symbolic links) on its own origin whose default model's
  // file is another model's valid ONNX graph: ONNX Runtime would load it, the
  // SHA-256 in the card refuses it. (page.route cannot do this:
  // the page's service worker handles its document.)
  const def = models.find((m) => m.default);
  const other = models.find((m) => !m.default);
  const stranger = other ? path.join(DIST, 'models', other.id, 'model.onnx') : null;
  const site = mkdtempSync(path.join(tmpdir(), 'facekeys-broken-'));
  for (const e of readdirSync(DIST)) if (e !== 'models') symlinkSync(path.join(DIST, e), path.join(site, e));
  mkdirSync(path.join(site, 'models'));
  for (const e of readdirSync(path.join(DIST, 'models'))) {
    if (e !== def.id) { symlinkSync(path.join(DIST, 'models', e), path.join(site, 'models', e)); continue; }
    mkdirSync(path.join(site, 'models', e));
    copyFileSync(path.join(DIST, 'models', e, 'model.json'), path.join(site, 'models', e, 'model.json'));
    if (stranger) copyFileSync(stranger, path.join(site, 'models', e, 'model.onnx'));
    else writeFileSync(path.join(site, 'models', e, 'model.onnx'), 'this is not an ONNX model');
  }
  const srv2 = await serve(site);
  const b2 = await openPage(srv2);
  try {
    const bytes = Array.from(readFileSync(path.join(IMM, IMM_FILES[0])));
    const run = (options) => b2.page.evaluate(async ({ bytes, options }) => {
      try { return { result: await window.facekeys.predict(new File([new Uint8Array(bytes)], 'a.jpg'), options) }; } catch (e) {
        return { error: e.message, status: window.facekeys.status(), shown: window.facekeys.photos().at(-1).result };
      }
    }, { bytes, options });
    const r = await run({});
    assert.ok(r.error, 'predict succeeded with a broken model file');
    assert.match(r.error, /failed to load/);
    if (stranger) assert.match(r.error, /does not match its model card \(SHA-256 [0-9a-f]{12}/);
    assert.match(r.status.error, /failed to load/);
    assert.ok(r.shown && r.shown.faces.length === 1, 'the detected face is still shown');
    const again = await run({});
    assert.match(again.error || '', /failed to load/, 'second photo: same clear message');
    if (other) {
      const ok = await run({ model: other.id });
      assert.ok(ok.result && ok.result.faces[0].points.length > 0, `another model after the failure: ${ok.error}`);
    }
  } finally {
    await b2.close();
    srv2.close();
    rmSync(site, { recursive: true, force: true });
  }
});

// A copy of dist/ (symbolic links) on its own origin in which `change(id, dir)`
// may replace the files of any model folder (copied first), then the page open on it.
async function siteWith(change) {
  const site = mkdtempSync(path.join(tmpdir(), 'facekeys-site-'));
  for (const e of readdirSync(DIST)) if (e !== 'models') symlinkSync(path.join(DIST, e), path.join(site, e));
  mkdirSync(path.join(site, 'models'));
  for (const e of readdirSync(path.join(DIST, 'models'))) {
    const from = path.join(DIST, 'models', e), to = path.join(site, 'models', e);
    if (!existsSync(path.join(from, 'model.json'))) { symlinkSync(from, to); continue; }
    mkdirSync(to);
    for (const f of readdirSync(from)) copyFileSync(path.join(from, f), path.join(to, f));
    change(e, to);
  }
  const srv2 = await serve(site);
  const b2 = await openPage(srv2);
  return { page: b2.page, close: async () => { await b2.close(); srv2.close(); rmSync(site, { recursive: true, force: true }); } };
}

test('a model from elsewhere the runtimes cannot take, or a card naming no file: refused with a clear status', async () => {
  const models = await shippedModels();
  const def = models.find((m) => m.default);
  const other = models.find((m) => !m.default);
  assert.ok(def && other, 'needs two models in dist/');
  // The default model's file with its opset raised to 18 (same length, still well formed) and
  // its card's SHA-256 updated: only the model check stands between it and ONNX Runtime.
  // Another model's card names a file that is not there.
  const s = await siteWith((id, dir) => {
    const cardPath = path.join(dir, 'model.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8'));
    if (id === def.id) {
      const onnx = readFileSync(path.join(dir, card.onnx.file));
      const at = onnx.indexOf(Buffer.from([0x42, 0x04, 0x0a, 0x00, 0x10, 0x11]));  // opset_import {"", 17}
      assert.ok(at > 0, 'opset 17 import not found in the default model');
      onnx[at + 5] = 18;
      writeFileSync(path.join(dir, card.onnx.file), onnx);
      card.onnx.sha256 = createHash('sha256').update(onnx).digest('hex');
    } else if (id === other.id) {
      card.onnx.file = 'model-v2.onnx';
    }
    writeFileSync(cardPath, JSON.stringify(card, null, 2));
  });
  try {
    const bytes = Array.from(readFileSync(path.join(IMM, IMM_FILES[0])));
    const run = (options) => s.page.evaluate(async ({ bytes, options }) => {
      try { return { result: await window.facekeys.predict(new File([new Uint8Array(bytes)], 'a.jpg'), options) }; } catch (e) {
        return { error: e.message, status: window.facekeys.status() };
      }
    }, { bytes, options });
    const newer = await run({});
    assert.ok(newer.error, 'predict succeeded with an opset-18 model');
    const want = new RegExp(`models/${def.id}/model\\.onnx: ONNX opset 18 is not supported: OpenCV DNN 4\\.6 \\(facekeys predict\\) and the page run opsets 7 to 17`);
    assert.match(newer.error, want);
    assert.match(newer.status.error, want);
    const gone = await run({ model: other.id });
    assert.ok(gone.error, 'predict succeeded with a missing model file');
    const missing = new RegExp(`models/${other.id}/model-v2\\.onnx: missing \\(named by models/${other.id}/model\\.json\\)`);
    assert.match(gone.error, missing);
    assert.match(gone.status.error, missing);
  } finally {
    await s.close();
  }
});

test('a site without ONNX Runtime\'s script: start-up fails with a message that names the file', async () => {
  // dist/ on its own origin with ort/ort.wasm.min.js missing: the page's ONNX Runtime worker
  // (onnx_worker.js) cannot load it, and every session it was asked for fails with that reason.
  const site = mkdtempSync(path.join(tmpdir(), 'facekeys-site-'));
  for (const e of readdirSync(DIST)) if (e !== 'ort') symlinkSync(path.join(DIST, e), path.join(site, e));
  mkdirSync(path.join(site, 'ort'));
  for (const e of readdirSync(path.join(DIST, 'ort')))
    if (e !== 'ort.wasm.min.js') symlinkSync(path.join(DIST, 'ort', e), path.join(site, 'ort', e));
  const srv2 = await serve(site);
  const b2 = await openPage(srv2, { waitReady: false });
  try {
    const why = await b2.page.evaluate(() => window.facekeys.ready.then(() => 'ready', (e) => e.message));
    assert.match(why, /ONNX Runtime's worker failed: .*ort\/ort\.wasm\.min\.js/);
    assert.match(await b2.page.evaluate(() => window.facekeys.status().error), /ort\.wasm\.min\.js/);
  } finally {
    await b2.close();
    srv2.close();
    rmSync(site, { recursive: true, force: true });
  }
});

test('a second visit is cross-origin isolated by the page\'s service worker: ONNX Runtime on its threads, the same points', async () => {
  const [file] = lfpwFiles();
  const bytes = readFileSync(file);
  const model = (await shippedModels()).find((m) => m.default).id;  // earlier tests picked others
  const first = await predictBytes(bytes, path.basename(file), { model });
  assert.ok(first.result, first.error);
  await secondVisit(page());  // the page of a visitor who comes back (web/coi-sw.js adds the headers)
  await page().evaluate(() => window.facekeys.ready);
  const cores = await page().evaluate(() => navigator.hardwareConcurrency);
  assert.deepEqual(await ortWorkerUrls(), [`onnx_worker.js?threads=${Math.max(1, Math.min(4, cores))}`]);
  const second = await predictBytes(bytes, path.basename(file), { model });
  assert.ok(second.result, second.error);
  const { mean, n } = comparePoints(second.result, first.result, 'isolated vs first visit');
  assert.ok(n > 0 && mean < 0.01, `the points moved by ${mean} px on ONNX Runtime's threads`);
});

test('no request leaves the page origin', async () => {
  const foreign = b.requests.filter((u) => !u.startsWith(srv.origin + '/') && !u.startsWith('blob:') && !u.startsWith('data:'));
  assert.deepEqual(foreign, [], `requests to other origins: ${foreign.join(', ')}`);
  assert.ok(b.requests.some((u) => u.endsWith('.onnx')), 'no model was fetched at all?');
});
