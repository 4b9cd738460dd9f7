// facekeys browser glue: image decoding, ONNX Runtime Web sessions, the page's
// inputs (file picker, drag and drop, paste) and the scripting interface
// window.facekeys. The pipeline is the core's photo job (shared/include/
// facekeys/photo_job.hpp, through wasm/js_api.cpp): this file decodes the
// photo, runs whatever tensor the job asks for on the network it names, and
// hands the outputs back. It knows no step of the pipeline.
//
//   window.facekeys.predict(blobOrUrl, {model}) -> the JSON of `facekeys predict`
//   window.facekeys.models()                    -> the shipped models (cards)
//   window.facekeys.ready                       -> resolves when the page can predict
//   window.facekeys.camera.start/onFrame/stop   -> live video: the core's face tracker
//   window.facekeys.video(blobOrUrl, options)   -> a video file through the same path
//
// Video frames (camera or file) go through the same loop as photos: the core's
// FaceTracker (face_tracker.hpp, through wasm/js_api.cpp's fk_track_*) asks for
// the network calls, this file runs them. ONNX Runtime runs in a worker of ours
// (wasm/onnx_worker.js), so the main thread, where ImGui draws and the frames
// are grabbed, is free while the networks run; a frame that arrives while the
// networks are busy is dropped, never queued.
//
// Every file is fetched from the page's own origin (models/, detectors/, ort/).
/* global createFacekeysModule */
(() => {
  'use strict';

  // Photos above this many pixels that are not decoded at a reduced scale
  // (below) are downscaled, keeping the aspect ratio, before they enter the
  // module: detection runs at 320x240 anyway, and a 50-megapixel RGBA copy
  // would cost 200 MB of wasm memory. Points are still reported in
  // original-image pixels.
  const MAX_WORK_PIXELS = 4096 * 4096;
  const MAX_FACES = 100;
  const DETECTOR_URL = 'detectors/ultraface/version-RFB-320.onnx';

  const statusEl = document.getElementById('status');
  const fileInput = document.getElementById('file');
  const videoInput = document.getElementById('video-file');
  const canvas = document.getElementById('canvas');
  const videoLayer = document.getElementById('video-layer');
  const videoView = document.getElementById('video-view');

  const st = {
    mod: null,
    modReady: null,      // resolves when st.mod is there
    models: [],          // {id, card (parsed JSON), index (in the module)}
    defaultModel: 0,
    model: 0,            // selected model index
    onnx: {},            // ONNX Runtime's workers by name (onnx())
    sessions: new Map(), // worker name + url -> Promise<session> (onnx())
    videoReady: new Map(),  // model id -> Promise: the video worker's sessions made and warm (prepareVideo)
    photos: [],          // {blob, name, result}
    current: -1,         // photo shown
    committed: -1,       // photo whose pixels the module holds
    committedKeeps: Infinity,  // how many pixels it holds when decoded at reduced scale
    queue: Promise.resolve(),  // the pipeline's tasks, one at a time (serial)
    waiting: 0,                // tasks queued behind the one running
    lastError: '',
    lastMessage: '',
    lastJpegScanMs: 0,  // the JPEG scan check of the last photo (benchmarks)
    video: null,         // the video session (camera or file)
    layerFrame: null,    // the frame in the video layer, without its overlay (showVideoPixels)
    videoListeners: new Set(),  // camera.onFrame's callbacks
  };

  // ---- status ----------------------------------------------------------------
  function setStatus(msg, isError = false) {
    st.lastMessage = msg;
    st.lastError = isError ? msg : '';
    statusEl.textContent = msg;
    statusEl.classList.toggle('error', isError);
    if (st.mod) withString(msg, (p) => st.mod._fk_set_status(p, isError ? 1 : 0));
    if (isError) console.warn('facekeys:', msg);
  }
  function withString(s, f) {
    const m = st.mod;
    const n = m.lengthBytesUTF8(s) + 1;
    const p = m._malloc(n);
    m.stringToUTF8(s, p, n);
    try { return f(p); } finally { m._free(p); }
  }
  function moduleError(what) {
    const e = st.mod.UTF8ToString(st.mod._fk_last_error());
    return new Error(e || what);
  }
  const now = () => performance.now();

  // ---- ONNX Runtime, in workers of ours (wasm/onnx_worker.js) -------------------
  // The networks run there, off the main thread: ImGui keeps drawing and video frames keep
  // arriving while they run (docs/WEB.md, "Live video"). Two workers, each with its own
  // ONNX Runtime: photos use up to 4 threads (?ortthreads=N; one on a first visit, which is not
  // cross-origin isolated yet: web/coi.js), video one (?ortvideothreads=N), since each video
  // frame also needs the page's main thread and the browser's compositing: on 2 cores, one
  // thread tracked 20-22 frames per second, two threads 18. A session here is
  // {run, release}: run(inputName, Float32Array, dims) resolves to {outputName: Float32Array}.
  function onnx(pool) {
    if (st.onnx[pool]) return st.onnx[pool];
    // Threads need cross-origin isolation (COOP/COEP headers, or web/coi-sw.js's from the second visit on).
    const params = new URLSearchParams(location.search);
    const threads = pool === VIDEO ? Number(params.get('ortvideothreads')) || 1
      : Number(params.get('ortthreads')) || Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
    const worker = new Worker(`onnx_worker.js?threads=${self.crossOriginIsolated ? threads : 1}`);
    const pending = new Map();
    let nextId = 1, failed = null;  // failed: why the worker stopped (every later call fails with it)
    const failAll = (message) => {
      failed = message;
      for (const p of pending.values()) p.reject(new Error(message));
      pending.clear();
    };
    worker.onmessage = ({ data }) => {
      const p = pending.get(data.id);
      pending.delete(data.id);
      if (!p) return;
      if (data.error) p.reject(new Error(data.error)); else p.resolve(data);
    };
    worker.onerror = (e) => { e.preventDefault(); failAll(`ONNX Runtime's worker failed: ${e.message || 'it did not start'}`); };
    const call = (msg, transfer = []) => new Promise((resolve, reject) => {
      if (failed) { reject(new Error(failed)); return; }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...msg }, transfer);
    });
    st.onnx[pool] = {
      // `bytes` (an ONNX file) go to the worker.
      async create(bytes) {
        const { session } = await call({ op: 'create', bytes }, [bytes.buffer]);
        return {
          run: async (input, data, dims) => (await call({ op: 'run', session, input, data, dims }, [data.buffer])).outputs,
          release: () => call({ op: 'release', session }).catch(() => {}),
        };
      },
    };
    return st.onnx[pool];
  }
  const PHOTOS = 'photos', VIDEO = 'video';  // the workers' names
  // Sessions are made from bytes fetched here, so that a model's file is
  // checked first, by the check `facekeys predict` runs before OpenCV
  // (fk_model_check_onnx / fk_detector_check_onnx, model_check.hpp: the card's
  // SHA-256, names, shapes, opset, weight sizes): a model.onnx left from
  // another export, or one ONNX Runtime would take badly, is refused with a
  // clear message instead of drawing wrong points. ONNX Runtime's own start
  // (its WebAssembly) is under way in the worker meanwhile. `pool`: the worker
  // (PHOTOS or VIDEO); `model`: the entry of st.models, or null for the detector.
  function session(pool, url, label, model = null) {
    const key = `${pool} ${url}`;
    let p = st.sessions.get(key);
    if (!p) {
      p = (async () => {
        const worker = onnx(pool);  // started now if it was not: ONNX Runtime starts while the file comes
        const r = await fetch(url);
        if (r.status === 404) throw new Error(`${url}: missing (named by ${model ? `models/${model.id}/model.json` : 'the page'})`);
        if (!r.ok) throw new Error(`HTTP ${r.status} ${r.statusText}`);
        const bytes = new Uint8Array(await r.arrayBuffer());
        if (!st.mod) await st.modReady;
        return await worker.create(checkModelFile(model, bytes, url));
      })().catch((e) => {
        st.sessions.delete(key);  // a later try may succeed
        const msg = String(e && e.message ? e.message : e);
        throw new Error(msg.startsWith(url) ? `${label} failed to load: ${msg}` : `${label} failed to load (${url}): ${msg}`);
      });
      st.sessions.set(key, p);
    }
    return p;
  }
  const modelUrl = (m) => `models/${m.id}/${(m.card.onnx && m.card.onnx.file) || 'model.onnx'}`;
  const modelSession = (pool, model) => session(pool, modelUrl(model), `Model ${model.id}`, model);
  const detectorSession = (pool) => session(pool, DETECTOR_URL, 'The face detector');
  // The core's check of a model file (null: the detector's); returns the bytes ONNX Runtime is
  // handed: the file, or the core's copy with its int8 weights widened (fk_runtime_onnx:
  // ONNX Runtime Web would do that at load time, in code it runs for the first time).
  function checkModelFile(model, bytes, url) {
    const m = st.mod;
    const p = m._malloc(Math.max(1, bytes.length));
    if (!p) throw new Error('out of memory for the model file');
    const out = m._malloc(4);
    try {
      m.HEAPU8.set(bytes, p);
      const r = withString(url, (up) => model ? m._fk_model_check_onnx(model.index, p, bytes.length, up)
                                              : m._fk_detector_check_onnx(p, bytes.length, up));
      if (r < 0) throw moduleError('model file');
      const n = withString(url, (up) => m._fk_runtime_onnx(p, bytes.length, up, out));
      if (n < 0) throw moduleError('model file');
      if (n === 0) return bytes;
      const at = m.HEAP32[out >> 2] >>> 0;
      try { return m.HEAPU8.slice(at, at + n); } finally { m._free(at); }
    } finally {
      m._free(p);
      m._free(out);
    }
  }

  // ---- image decoding --------------------------------------------------------
  // The shared core checks the file first, as `facekeys predict` does
  // (image_header.hpp): the format, that the file is whole (browsers draw a
  // truncated JPEG or PNG with the missing part grey, without an error), the
  // stored size, and the JPEG decode divisor for the model that will run (its
  // card says how many pixels it needs: keypoint_min_work_pixels).
  const IMAGE_FORMATS = ['', 'jpeg', 'png', 'webp'];  // ImageFormat
  function checkImage(bytes, name, minPixels, wholeFile = false) {
    const m = st.mod;
    const head = wholeFile ? bytes : bytes.subarray(0, m._fk_image_header_bytes());
    const tail = bytes.subarray(Math.max(0, bytes.length - m._fk_image_tail_bytes()));
    const p = m._malloc(16 + head.length + tail.length);
    try {
      m.HEAPU8.set(head, p + 16);
      m.HEAPU8.set(tail, p + 16 + head.length);
      const r = withString(name, (np) => m._fk_image_check(np, p + 16, head.length, p + 16 + head.length, tail.length,
                                                            bytes.length, minPixels, p));
      if (r < 0) throw moduleError(`${name}: cannot be read`);
      if (r === 1) return checkImage(bytes, name, minPixels, true);  // data after a JPEG's end: walk it whole
      const [format, width, height, divisor] = m.HEAP32.subarray(p / 4, p / 4 + 4);
      return { kind: IMAGE_FORMATS[format], width, height, divisor };
    } finally { m._free(p); }
  }

  // The browser's libjpeg-turbo draws a JPEG whose compressed data is damaged
  // (bytes overwritten, a scan cut short) with grey blocks and no error; the
  // shared core walks every scan as libjpeg does (jpeg_scan.hpp) and refuses
  // it, as `facekeys predict` does with libjpeg.
  function checkJpegScan(bytes, name) {
    const m = st.mod;
    const p = m._malloc(Math.max(1, bytes.length));
    if (!p) throw new Error(`${name}: out of memory for the JPEG check`);
    try {
      m.HEAPU8.set(bytes, p);
      const t0 = now();
      const r = withString(name, (np) => m._fk_jpeg_scan_check(np, p, bytes.length));
      st.lastJpegScanMs = now() - t0;
      if (r < 0) throw moduleError(`${name}: corrupt JPEG data`);
    } finally { m._free(p); }
  }

  // Large JPEGs are decoded at 1/2, 1/4 or 1/8 scale in the DCT domain
  // (ImageDecoder with a desired size; the divisor comes from the shared core,
  // image_header.hpp): several times faster than a full decode, and far fewer
  // pixels to read back and convert. The pixels are copied out as stored
  // (VideoFrame.copyTo, no canvas); ImageDecoder reports the EXIF orientation
  // as VideoFrame.rotation and .flip, which the module applies
  // (rotate_and_mirror in image.hpp).
  const scaledJpegDecoding = typeof ImageDecoder === 'function' && typeof VideoFrame === 'function' &&
    'rotation' in VideoFrame.prototype;
  async function decodeJpegScaled(bytes, plan) {
    const dec = new ImageDecoder({
      data: bytes, type: 'image/jpeg', colorSpaceConversion: 'none', preferAnimation: false,
      desiredWidth: Math.ceil(plan.width / plan.divisor), desiredHeight: Math.ceil(plan.height / plan.divisor),
    });
    try {
      const { image } = await dec.decode();
      try {
        const { width: ww, height: wh } = image.visibleRect;
        const pixels = new Uint8Array(image.allocationSize({ format: 'RGBA' }));
        const [plane] = await image.copyTo(pixels, { format: 'RGBA' });
        if (pixels.length !== ww * wh * 4 || plane.stride !== ww * 4) throw new Error('unexpected pixel layout');
        const turns = Math.round((image.rotation || 0) / 90) % 4;
        return { pixels, ww, wh, ow: plan.width, oh: plan.height, turns, mirror: !!image.flip };
      } finally { image.close(); }
    } finally { dec.close(); }
  }

  // -> {pixels (RGBA), ww, wh (those pixels), ow, oh (the photo), turns, mirror
  //     (the EXIF orientation still to apply to both, as rotate_and_mirror),
  //     scaled (decoded at reduced scale)}
  async function decodeImage(blob, name, minPixels) {
    if (!blob || blob.size === 0) throw new Error(`${name}: empty file (0 bytes)`);
    // One read of the file (each read of a Blob is a trip to the browser process).
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const plan = checkImage(bytes, name, minPixels);
    const kind = plan.kind;
    if (kind === 'jpeg') checkJpegScan(bytes, name);
    if (kind === 'jpeg' && plan.divisor > 1 && scaledJpegDecoding) {
      try {
        return { ...(await decodeJpegScaled(bytes, plan)), scaled: true };
      } catch (e) {
        console.warn(`facekeys: ${name}: scaled JPEG decoding failed (${e && e.message}); decoding in full`);
      }
    }
    let bmp;
    try {
      // EXIF orientation applied; no colour management (as OpenCV's imread),
      // so the pixels match `facekeys predict`.
      bmp = await createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    } catch (e) {
      throw new Error(`${name}: the ${kind.toUpperCase()} file is corrupt or cannot be decoded`);
    }
    const ow = bmp.width, oh = bmp.height;
    if (!(ow > 0 && oh > 0)) { bmp.close(); throw new Error(`${name}: image has no pixels`); }
    let ww = ow, wh = oh;
    if (ow * oh > MAX_WORK_PIXELS) {
      const s = Math.sqrt(MAX_WORK_PIXELS / (ow * oh));
      ww = Math.max(1, Math.floor(ow * s));
      wh = Math.max(1, Math.floor(oh * s));
      const small = await createImageBitmap(bmp, { resizeWidth: ww, resizeHeight: wh, resizeQuality: 'high' });
      bmp.close();
      bmp = small;
    }
    const c = new OffscreenCanvas(ww, wh);
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bmp, 0, 0);
    bmp.close();
    const pixels = ctx.getImageData(0, 0, ww, wh).data;
    return { pixels, ww, wh, ow, oh, turns: 0, mirror: false, scaled: false };
  }

  // ---- the pipeline (one at a time: the module holds one photo) --------------
  function serial(f) {
    ++st.waiting;
    const run = () => { --st.waiting; return f(); };
    const p = st.queue.then(run, run);
    st.queue = p.catch(() => {});
    return p;
  }

  // Decodes photo `index` into the module, keeping at least `minPixels` of it
  // (large JPEGs are decoded at reduced scale: process() decodes a photo held at
  // reduced scale again when a model that needs more pixels is picked, and the
  // job asks for a finer decode when a face is small). `again`: the same photo
  // for the current job (fk_photo_replace), else a new one.
  async function commitPhoto(index, minPixels, timing, again = false) {
    const m = st.mod, photo = st.photos[index];
    const t0 = now();
    if (!again) st.committed = -1;
    const d = await decodeImage(photo.blob, photo.name, minPixels);
    st.committedKeeps = d.scaled ? d.ww * d.wh : Infinity;
    const ptr = m._fk_photo_alloc(d.ww, d.wh, again ? 1 : 0);
    if (!ptr) throw moduleError('out of memory for the photo');
    m.HEAPU8.set(d.pixels, ptr);
    const ok = again ? m._fk_photo_replace(d.ow, d.oh, d.turns, d.mirror ? 1 : 0)
                     : withString(photo.name, (p) => m._fk_photo_commit(d.ow, d.oh, d.turns, d.mirror ? 1 : 0, p));
    if (ok < 0) throw moduleError('photo');
    st.committed = index;
    timing.decode = (timing.decode || 0) + (now() - t0);
  }

  // The core's two drivers of network calls, driven by one loop (runNetworks):
  // the photo job (photo_job.hpp) and the video tracker (face_tracker.hpp).
  // Each names its module functions: next (the call as JSON, "" when done),
  // input, output(k, n), give, and for photos pixels_wanted; and the ONNX
  // Runtime worker its networks run in (pool).
  const PHOTO_JOB = { next: '_fk_job_next', input: '_fk_job_input', output: '_fk_job_output', give: '_fk_job_give',
                      pixelsWanted: '_fk_job_pixels_wanted', pool: PHOTOS };
  const TRACKER = { next: '_fk_track_next', input: '_fk_track_input', output: '_fk_track_output', give: '_fk_track_give',
                    pool: VIDEO };

  // Until the driver is done: run the tensor it asks for on the network it
  // names and hand the outputs back. `onPixelsWanted(n)`: the photo job asks
  // for a finer decode of the photo (at least n pixels).
  async function runNetworks(api, model, timing, onPixelsWanted = null) {
    const m = st.mod;
    Object.assign(timing, { detect: 0, infer: 0, preprocess: 0 });
    let t = now();
    for (;;) {
      const p = m[api.next]();
      if (!p) throw moduleError('pipeline');
      const text = m.UTF8ToString(p);
      if (!text) {
        const want = api.pixelsWanted ? m[api.pixelsWanted]() : 0;
        if (!(want > 0) || !onPixelsWanted) break;  // done
        timing.preprocess += now() - t;
        await onPixelsWanted(want);
        t = now();
        continue;
      }
      const run = JSON.parse(text);
      const n = run.shape.reduce((a, b) => a * b, 1);
      const at = m[api.input]() / 4;
      const input = m.HEAPF32.slice(at, at + n);  // a copy: the heap may grow while ONNX Runtime holds it
      timing.preprocess += now() - t;
      const detector = run.network === 'detector';
      t = now();
      const sess = await (detector ? detectorSession(api.pool) : modelSession(api.pool, model));
      if (!detector) timing.load = (timing.load || 0) + (now() - t);  // creating the session (first use)
      t = now();
      const out = await sess.run(run.input, input, run.shape);
      timing[detector ? 'detect' : 'infer'] += now() - t;
      t = now();
      run.outputs.forEach((name, k) => {
        if (!out[name]) throw new Error(`${detector ? 'The face detector' : `Model ${model.id}`}: the graph has no output '${name}'`);
        const data = out[name];
        const q = m[api.output](k, data.length);
        if (!q) throw moduleError('pipeline');
        m.HEAPF32.set(data, q / 4);
      });
      if (m[api.give]() < 0) throw moduleError('pipeline');
    }
    timing.preprocess += now() - t;
    if (timing.load !== undefined && timing.load < 1) delete timing.load;  // the session was there already
  }

  // One run of the core's photo job on the committed photo. `manualBox` ([x,
  // y, w, h], original pixels) replaces detection; redetect false keeps the
  // faces of the last run (another model).
  async function runJob(modelIndex, { redetect, manualBox }, timing, pool = PHOTOS) {
    const m = st.mod, model = st.models[modelIndex];
    const box = manualBox || [0, 0, 0, 0];
    if (m._fk_job_start(model ? model.index : -1, redetect ? 1 : 0, ...box) < 0) throw moduleError('photo');
    await runNetworks({ ...PHOTO_JOB, pool }, model, timing, async (want) => {
      const t1 = now();
      await commitPhoto(st.current, want, timing, true);  // small faces: the photo again, finer
      timing.finer_decode = now() - t1;
    });
  }

  function finish(index, modelIndex, timing, tStart) {
    const m = st.mod;
    timing.total = now() - tStart;
    m._fk_set_timings(timing.decode || 0, timing.detect || 0, timing.preprocess || 0, timing.infer || 0, timing.total);
    const result = JSON.parse(m.UTF8ToString(m._fk_job_result()));
    const r = (x) => Math.round((x || 0) * 100) / 100;
    result.timing_ms = { decode: r(timing.decode), detect: r(timing.detect), preprocess: r(timing.preprocess),
                         infer: r(timing.infer), total: r(timing.total) };
    if (timing.load) result.timing_ms.model_load = r(timing.load);
    if (timing.finer_decode) result.timing_ms.finer_decode = r(timing.finer_decode);  // included in decode
    st.photos[index].result = result;
    return result;
  }

  function describe(result) {
    const n = result.faces.length;
    const tm = result.timing_ms;
    if (n === 0) return `${result.image}: no face found. Use "Draw face box" (or shift-drag) to mark one by hand.`;
    return `${result.image}: ${n} face${n > 1 ? 's' : ''}, ${result.model}, ${tm.total.toFixed(0)} ms`;
  }

  // Runs decode (when needed), detection and keypoints on photo `index`.
  function process(index, { modelIndex = st.model, redetect = true, manualBox = null } = {}) {
    return serial(async () => {
      const m = st.mod;
      const photo = st.photos[index];
      if (st.video) { endSession(); st.video = null; m._fk_track_close(); }  // back to photos
      st.current = index;
      m._fk_set_photo_list(index, st.photos.length);
      m._fk_set_busy(1);
      setStatus(`${photo.name}: working...`);
      if (st.models[modelIndex]) { st.model = modelIndex; m._fk_select_model(st.models[modelIndex].index); }
      const timing = {};
      const tStart = now();
      try {
        const moduleModel = st.models[modelIndex] ? st.models[modelIndex].index : -1;
        if (st.committed !== index || st.committedKeeps < m._fk_model_work_pixels(moduleModel)) {
          await commitPhoto(index, m._fk_model_work_pixels(moduleModel), timing);  // a new photo's job detects first
        }
        // A failure after detection (a model that does not load) still shows the faces found.
        let jobError = null;
        try {
          await runJob(modelIndex, { redetect, manualBox }, timing);
        } catch (e) {
          jobError = e;
        }
        const result = finish(index, modelIndex, timing, tStart);
        if (jobError) throw jobError;
        if (!st.models.length) setStatus('No keypoint models are shipped with this build (faces only).', true);
        else setStatus(describe(result));
        return result;
      } catch (e) {
        // A photo that could not be decoded leaves nothing on screen (not the previous photo's points).
        if (st.committed !== index) m._fk_clear_photo();
        setStatus(e && e.message ? e.message : String(e), true);
        throw e;
      } finally {
        m._fk_set_busy(0);
      }
    });
  }

  // ---- adding photos -----------------------------------------------------------
  function addPhotos(files) {
    const list = Array.from(files || []).filter((f) => f instanceof Blob);
    if (!list.length) return null;
    const first = st.photos.length;
    for (const f of list) st.photos.push({ blob: f, name: f.name || 'pasted image', result: null });
    const p = process(first);
    p.catch(() => {});  // shown in the page
    return p;
  }

  fileInput.addEventListener('change', () => { addPhotos(fileInput.files); fileInput.value = ''; });
  videoInput.addEventListener('change', () => {
    const f = videoInput.files && videoInput.files[0];
    videoInput.value = '';
    if (f) trackVideoFile(f, f.name).catch(() => {});  // shown in the page by trackVideoFile
  });
  window.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
  window.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    if (e.dataTransfer) addPhotos(e.dataTransfer.files);
  }, true);
  document.addEventListener('paste', (e) => {
    const items = e.clipboardData ? Array.from(e.clipboardData.items) : [];
    const files = items.filter((it) => it.kind === 'file').map((it) => it.getAsFile()).filter(Boolean);
    if (files.length) { e.preventDefault(); addPhotos(files); }
  });

  // ---- exports -------------------------------------------------------------------
  function download(blob, name) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
  const stem = (n) => n.replace(/\.[^.]*$/, '') || 'photo';
  function exportJson() {
    const photo = st.photos[st.current];
    if (!photo || !photo.result) return setStatus('Nothing to export yet.', true);
    download(new Blob([JSON.stringify(photo.result, null, 2)], { type: 'application/json' }), `${stem(photo.name)}.facekeys.json`);
  }
  // The photo shown, at its original size, with the overlay drawn on it by the
  // core's rasteriser (fk_overlay_draw; draw.hpp): the pixels of
  // `facekeys predict --overlay`, with the panel's switches.
  async function overlayPng() {
    const photo = st.photos[st.current];
    if (!photo || !photo.result) throw new Error('Nothing to export yet.');
    const { width: w, height: h } = photo.result;
    const bmp = await createImageBitmap(photo.blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    const c = new OffscreenCanvas(w, h);
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bmp, 0, 0, w, h);
    bmp.close();
    const img = ctx.getImageData(0, 0, w, h);
    const m = st.mod;
    const p = m._malloc(img.data.length);
    if (!p) throw new Error('out of memory for the export');
    try {
      m.HEAPU8.set(img.data, p);
      if (m._fk_overlay_draw(p, w, h) < 0) throw moduleError('export');
      img.data.set(m.HEAPU8.subarray(p, p + img.data.length));
    } finally { m._free(p); }
    ctx.putImageData(img, 0, 0);
    return c.convertToBlob({ type: 'image/png' });
  }
  async function exportPng() {
    try {
      const photo = st.photos[st.current];
      download(await overlayPng(), `${stem(photo.name)}.facekeys.png`);
    } catch (e) { setStatus(e.message, true); }
  }

  // ---- video: the camera and video files through the core's face tracker ------------
  // One session at a time (st.video). Frames come from the camera's track through
  // camera_worker.js, from a <video> element (a file the browser plays, or the camera
  // where the worker cannot read it) through requestVideoFrameCallback, or from a Y4M
  // file read here (browsers do not play Y4M; every frame is tracked, in order).
  // Each frame: RGBA pixels into the module (fk_frame_alloc, fk_track_begin), then
  // runNetworks(TRACKER), then the frame with its overlay in the video layer
  // (showVideoPixels) and the frame's JSON (fk_track_frame_json). While a frame
  // is in the pipeline, the newest frame that arrives waits for it and older ones are
  // dropped (counted), not queued: what is tracked is always the newest frame, at most
  // one pipeline run old.
  const VIDEO_STAGES = ['grab', 'detect', 'preprocess', 'infer', 'total'];

  function videoOptions(options = {}) {
    let modelIndex = st.model;
    if (options.model !== undefined && options.model !== null) {
      modelIndex = st.models.findIndex((x) => x.id === options.model || x.card.name === options.model);
      if (modelIndex < 0) throw new Error(`facekeys: unknown model '${options.model}' (have: ${st.models.map((x) => x.id).join(', ')})`);
    }
    const detectEvery = Math.max(1, Math.round(options.detectEvery ?? 10));
    const smoothing = options.smoothing === undefined ? true : !!options.smoothing;
    return { modelIndex, detectEvery, smoothing, flipTest: !!options.flipTest };
  }

  // The video worker's sessions, made and warmed (warmUp: its keypoint run repeated) before a session
  // takes its first frame.
  // Its first session starts the worker (ONNX Runtime's WebAssembly again: about 1.5 s here on a
  // first camera) and first runs take 2-3 times their later time: a frame taken meanwhile was
  // tracked 1.7 s late, and the next one, seconds of motion on, from its points. The camera starts
  // this while the browser asks the user.
  function prepareVideo(modelIndex) {
    const model = st.models[modelIndex];
    const key = model ? model.id : '';
    let p = st.videoReady.get(key);
    if (!p) {
      p = Promise.all([detectorSession(VIDEO), model && modelSession(VIDEO, model)]).then(() => warmUp(modelIndex, VIDEO));
      st.videoReady.set(key, p);
      p.catch(() => st.videoReady.delete(key));  // a later try may succeed
    }
    return p;
  }

  // A new session: the tracker in the module, the panel in video mode, once the video worker is
  // ready (prepareVideo). The previous session ends first, and its frame in the pipeline (if any)
  // finishes before the new tracker replaces its own.
  async function beginSession(kind, name, options) {
    const m = st.mod;
    const { modelIndex, detectEvery, smoothing, flipTest } = videoOptions(options);
    endSession();
    const model = st.models[modelIndex];
    await prepareVideo(modelIndex);
    await serial(() => {});
    const ok = withString(name, (p) => m._fk_track_start(model ? model.index : -1, detectEvery, smoothing ? 1 : 0,
                                                             flipTest ? 1 : 0, kind === 'camera' ? 1 : 0, p));
    if (ok < 0) throw moduleError('video');
    if (model) st.model = modelIndex;
    const v = {
      kind, name, modelIndex, model, frames: [], listeners: st.videoListeners, busy: false, paused: false,
      stopped: false, waiting: null, dropped: 0, seen: 0, stamps: [], last: null, cleanup: [], firstFrame: null,
      lastT: -Infinity,
    };
    v.firstFrame = new Promise((resolve, reject) => { v.resolveFirst = resolve; v.rejectFirst = reject; });
    v.firstFrame.catch(() => {});
    st.video = v;
    setStatus(`${kind === 'camera' ? 'Camera' : name}: tracking faces with ${model ? model.id : 'no model (faces only)'}`);
    return v;
  }
  function endSession() {
    const v = st.video;
    if (!v) return;
    v.stopped = true;
    st.layerFrame = null;
    for (const f of v.cleanup.splice(0)) { try { f(); } catch (e) { console.warn(e); } }
    if (st.mod) st.mod._fk_video_state(0, 0);
  }

  // The panel's figures: frames per second over the last second, the last frame's stages.
  function videoStats(v) {
    const t = now();
    while (v.stamps.length && v.stamps[0] < t - 1000) v.stamps.shift();
    const fps = v.stamps.length > 1 ? (v.stamps.length - 1) * 1000 / (v.stamps[v.stamps.length - 1] - v.stamps[0]) : 0;
    const tm = (v.last && v.last.timing_ms) || {};
    st.mod._fk_video_stats(fps, tm.grab || 0, tm.detect || 0, tm.preprocess || 0, tm.infer || 0, tm.total || 0,
                           v.frames.length, v.dropped);
    return fps;
  }

  // The frame shown, in the video layer under the ImGui canvas (platform_web.hpp: drawn there, not as a
  // WebGL texture), with its overlay drawn on it by the module (fk_video_layer_draw); the module places
  // the layer where the view has the frame (placeVideoLayer) and has it drawn again when the overlay's
  // switches change (redrawVideoLayer: from the frame's own pixels, kept here).
  function showVideoPixels(width, height, rgba) {
    const m = st.mod;
    st.layerFrame = { width, height, rgba };
    if (videoView.width !== width || videoView.height !== height) {
      videoView.width = width;
      videoView.height = height;
      videoView.ctx = videoView.getContext('2d', { alpha: false });
    }
    const p = m._fk_video_layer(width, height);
    if (!p) throw moduleError('video');
    m.HEAPU8.set(rgba.subarray(0, width * height * 4), p);
    if (m._fk_video_layer_draw() < 0) throw moduleError('video');
    const pixels = new Uint8ClampedArray(m.HEAPU8.buffer, p, width * height * 4);  // no copy (putImageData copies)
    videoView.ctx.putImageData(new ImageData(pixels, width, height), 0, 0);
  }
  function redrawVideoLayer() {
    const f = st.layerFrame;
    if (st.video && f) showVideoPixels(f.width, f.height, f.rgba);
  }

  // Tracks one frame: `rgba` holds its width x height RGBA pixels.
  // `extra`: fields added to the frame's record (source_frame for Y4M files).
  async function trackFrame(v, width, height, rgba, tSeconds, timing, extra = {}) {
    if (v.stopped) return null;  // another session (or a photo) took over meanwhile
    const m = st.mod;
    const t0 = now();
    const ptr = m._fk_frame_alloc(width, height);
    if (!ptr) throw moduleError('out of memory for the frame');
    m.HEAPU8.set(rgba, ptr);
    // The tracker wants strictly increasing times; a clock that repeats (a looped file) goes on from the last.
    if (!(tSeconds > v.lastT)) tSeconds = v.lastT + 1e-3;
    v.lastT = tSeconds;
    if (m._fk_track_begin(tSeconds) < 0) throw moduleError('video');
    timing.grab = (timing.grab || 0) + (now() - t0);
    await runNetworks(TRACKER, v.model, timing);
    showVideoPixels(width, height, rgba);  // the module shows the frame's faces in this animation frame
    timing.total = now() - timing.start;
    const rec = JSON.parse(m.UTF8ToString(m._fk_track_frame_json()));
    const r = (x) => Math.round((x || 0) * 100) / 100;
    rec.timing_ms = {};
    for (const k of VIDEO_STAGES) rec.timing_ms[k] = r(timing[k]);
    Object.assign(rec, extra);
    v.frames.push(rec);
    v.last = rec;
    v.stamps.push(now());
    videoStats(v);
    // Listeners get the frame's record and its pixels (RGBA, valid during the call).
    if (v.listeners.size) {
      const pixels = { width, height, rgba };
      for (const cb of v.listeners) { try { cb(rec, pixels); } catch (e) { console.error(e); } }
    }
    v.resolveFirst(rec);
    return rec;
  }

  // Frames of a <video> element (camera or a file the browser plays). A frame the element
  // presents is held at once (the frame presented now) and its pixels are read when the pipeline
  // takes it. VideoFrame.copyTo converts the frame (a camera's is YUV) to RGBA without a canvas:
  // 4-5 ms for 640x480 here, with the wait for its promise, where drawImage + getImageData took 10-11.
  // A browser without VideoFrame (or a frame it will not wrap) reads the pixels at once through a
  // canvas; one whose copyTo cannot convert the frames draws the held VideoFrame through the canvas
  // (from then on).
  const grabByVideoFrame = typeof VideoFrame === 'function';
  let heldFailures = 0;
  function holdVideoFrame(video) {
    if (grabByVideoFrame) {
      try {
        const frame = new VideoFrame(video);
        return { frame, close: () => frame.close() };
      } catch (e) {  // this frame through the canvas; VideoFrame is tried again on the next
        if (heldFailures++ === 0) console.warn('facekeys: no VideoFrame of the video frame, reading it through a canvas:', e);
      }
    }
    const read = facekeysRgba.ofSource(video, video.videoWidth, video.videoHeight);
    return { read, close() {} };
  }
  async function heldPixels(held) {
    return held.read || facekeysRgba.ofFrame(held.frame);
  }
  // The pipeline takes a frame as soon as it is free: the frame that arrived meanwhile waits, but
  // only the newest (a newer one replaces it, and the older is counted as dropped), so nothing piles
  // up and a frame waits at most one pipeline run; the pipeline does not idle until the next frame.
  // Returns offer(f): a frame arrived, f = {t (seconds), pixels (a promise of {width, height, pixels})}.
  function frameTaker(v) {
    const take = async (f) => {
      v.busy = true;
      const timing = { start: now() };
      try {
        const p = await f.pixels;
        timing.grab = now() - timing.start;
        await serial(() => trackFrame(v, p.width, p.height, p.pixels, f.t, timing));
      } catch (e) {
        setStatus(e && e.message ? e.message : String(e), true);
        v.rejectFirst(e);
      } finally {
        v.busy = false;
        const next = v.waiting;
        v.waiting = null;
        if (next && !v.stopped && !v.paused) take(next);
      }
    };
    v.cleanup.push(() => { v.waiting = null; });
    return (f) => {
      if (!v.busy) { take(f); return; }
      if (v.waiting) ++v.dropped;
      v.waiting = f;
    };
  }
  // Frames of a <video> element (a video file, or a camera where camera_worker.js cannot read it).
  // A frame's pixels are read as soon as it is held, so a waiting frame's are read while the
  // networks run on the frame before it ("grab" is then only the wait that is left).
  function followVideoElement(v, video, timeOf) {
    // The frame is closed as soon as its pixels are read (never during copyTo), not after the
    // networks' run on them: a camera captures into a few buffers, and a frame held is one fewer.
    const hold = (held, t) => {
      const pixels = heldPixels(held);
      pixels.then(() => held.close(), () => held.close());
      return { t, pixels };
    };
    const offer = frameTaker(v);
    const onFrame = (nowMs, meta) => {
      if (v.stopped) return;
      video.requestVideoFrameCallback(onFrame);
      ++v.seen;
      if (v.paused) return;
      let f;
      try {
        f = hold(holdVideoFrame(video), timeOf(nowMs, meta));
      } catch (e) {
        v.rejectFirst(e);
        return;
      }
      offer(f);
    };
    video.requestVideoFrameCallback(onFrame);
  }
  // Every frame of a camera's track, read and converted in camera_worker.js (which says why), through
  // a MediaStreamTrackProcessor made here (a track itself cannot go to a worker in Chromium 156) on a
  // clone of the track. Resolves to false where this browser cannot (no MediaStreamTrackProcessor,
  // a stream it cannot transfer): the caller then follows a <video> element.
  async function followCameraWorker(v, track) {
    if (typeof MediaStreamTrackProcessor !== 'function') return false;
    const worker = new Worker('camera_worker.js');
    const copy = track.clone();
    const answer = new Promise((resolve) => {
      worker.onmessage = ({ data }) => resolve(data);
      worker.onerror = (e) => { e.preventDefault(); resolve({ op: 'unsupported', why: e.message || 'the worker did not start' }); };
    });
    try {
      const { readable } = new MediaStreamTrackProcessor({ track: copy, maxBufferSize: 3 });
      worker.postMessage({ op: 'start', readable }, [readable]);
    } catch (e) {  // a stream this browser cannot transfer
      console.info('facekeys: the camera through a <video> element (its frames not to a worker:', e && e.message, ')');
      copy.stop();
      worker.terminate();
      return false;
    }
    v.cleanup.push(() => copy.stop());
    const first = await answer;
    if (first.op !== 'started') {
      worker.terminate();
      if (first.op === 'unsupported') {
        console.info(`facekeys: the camera through a <video> element (${first.why})`);
        return false;
      }
      throw new Error(`Camera: ${first.message || first.why}`);
    }
    const offer = frameTaker(v);
    let t0 = null;
    worker.onmessage = ({ data }) => {
      if (data.op === 'frame') {
        if (v.stopped) return;
        ++v.seen;
        if (v.paused) return;
        if (t0 === null) t0 = data.t;
        offer({ t: data.t - t0, pixels: Promise.resolve(data) });
      } else if ((data.op === 'error' || data.op === 'ended') && !v.stopped) {
        const why = data.op === 'error' ? data.message : 'it stopped sending frames';
        setStatus(`Camera: ${why}`, true);
        v.rejectFirst(new Error(`Camera: ${why}`));
      }
    };
    v.pauseSource = (paused) => worker.postMessage({ op: 'pause', paused });
    v.cleanup.push(() => { worker.postMessage({ op: 'stop' }); setTimeout(() => worker.terminate(), 1000); });
    return true;
  }
  // A <video> element the page plays (it must be in the document for its frames to be presented).
  function videoElement() {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.setAttribute('aria-hidden', 'true');
    video.className = 'facekeys-source';
    document.body.appendChild(video);
    return video;
  }

  async function startCamera(options = {}) {
    await ready;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
      throw new Error('This browser gives no camera to this page (it needs https or localhost).');
    prepareVideo(videoOptions(options).modelIndex).catch(() => {});  // while the browser asks for permission
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: options.width || 640 }, height: { ideal: options.height || 480 } }, audio: false });
    } catch (e) {
      const why = e && e.name === 'NotAllowedError' ? 'permission was not given'
        : e && e.name === 'NotFoundError' ? 'no camera was found' : (e && e.message) || String(e);
      throw new Error(`Camera: ${why}.`);
    }
    let v;
    try {
      v = await beginSession('camera', 'camera', options);
    } catch (e) {
      for (const tr of stream.getTracks()) tr.stop();
      throw e;
    }
    v.cleanup.push(() => { for (const tr of stream.getTracks()) tr.stop(); });
    v.reader = 'worker';
    if (options.reader === 'element' || !(await followCameraWorker(v, stream.getVideoTracks()[0]))) {
      v.reader = 'element';
      const video = videoElement();
      v.video = video;
      v.cleanup.push(() => { video.srcObject = null; video.remove(); });
      video.srcObject = stream;
      // The capture time of each frame (ms on the page's clock), relative to the first.
      let t0 = null;
      followVideoElement(v, video, (nowMs, meta) => {
        const tc = meta.captureTime !== undefined ? meta.captureTime : meta.expectedDisplayTime !== undefined ? meta.expectedDisplayTime : nowMs;
        if (t0 === null) t0 = tc;
        return (tc - t0) / 1000;
      });
      await video.play();
    }
    st.mod._fk_video_state(1, 0);
    const first = await v.firstFrame;
    return { width: first.width, height: first.height };
  }

  // Stops the session; resolves to its frames once the frame in the pipeline is done.
  async function stopVideo() {
    const v = st.video;
    if (!v) return [];
    endSession();
    await serial(() => {});
    setStatus(`${v.kind === 'camera' ? 'Camera' : v.name}: stopped, ${v.frames.length} frames (${v.dropped} dropped while busy).`);
    return v.frames;
  }

  function togglePause() {
    const v = st.video;
    if (!v || v.stopped) return;
    v.paused = !v.paused;
    if (v.video && v.kind !== 'camera') { if (v.paused) v.video.pause(); else v.video.play().catch(() => {}); }
    if (v.pauseSource) v.pauseSource(v.paused);
    if (v.resumeY4m && !v.paused) v.resumeY4m();
    st.mod._fk_video_state(1, v.paused ? 1 : 0);
  }

  // ---- Y4M (YUV4MPEG2) files: 8-bit 4:2:0 or gray, every frame tracked in order ----
  // BT.601 limited range to RGB, each chroma sample shared by its 2x2 pixels: what
  // FFmpeg's yuv420p -> RGB conversion (so OpenCV's VideoCapture, `facekeys track`)
  // and Chromium's fake camera do.
  async function readY4mHeader(blob) {
    const head = new Uint8Array(await blob.slice(0, 4096).arrayBuffer());
    const nl = head.indexOf(10);
    const line = new TextDecoder().decode(head.subarray(0, nl < 0 ? 0 : nl));
    if (!line.startsWith('YUV4MPEG2 ')) return null;
    const h = { W: 0, H: 0, fps: 30, C: '420jpeg', headerBytes: nl + 1 };
    for (const tok of line.split(' ').slice(1)) {
      const k = tok[0], val = tok.slice(1);
      if (k === 'W') h.W = parseInt(val, 10);
      else if (k === 'H') h.H = parseInt(val, 10);
      else if (k === 'F') { const [a, b] = val.split(':').map(Number); if (a > 0 && b > 0) h.fps = a / b; }
      else if (k === 'C') h.C = val;
    }
    if (!(h.W > 0 && h.H > 0)) throw new Error('Y4M: no frame size in the header');
    if (!/^(420|420jpeg|420paldv|420mpeg2|mono)$/.test(h.C)) throw new Error(`Y4M: colour format C${h.C} is not supported (4:2:0 or mono)`);
    const cw = (h.W + 1) >> 1, ch = (h.H + 1) >> 1;
    h.planeBytes = h.C === 'mono' ? h.W * h.H : h.W * h.H + 2 * cw * ch;
    return h;
  }
  function i420ToRgba(src, W, H, mono, dst) {
    const cw = (W + 1) >> 1, uo = W * H, vo = uo + cw * ((H + 1) >> 1);
    for (let y = 0; y < H; ++y) {
      const crow = (y >> 1) * cw;
      for (let x = 0; x < W; ++x) {
        const c = 1.164383 * (src[y * W + x] - 16);
        let r = c, g = c, b = c;
        if (!mono) {
          const u = src[uo + crow + (x >> 1)] - 128, v = src[vo + crow + (x >> 1)] - 128;
          r = c + 1.596027 * v; g = c - 0.391762 * u - 0.812968 * v; b = c + 2.017232 * u;
        }
        const o = 4 * (y * W + x);
        dst[o] = r < 0 ? 0 : r > 255 ? 255 : r + 0.5;
        dst[o + 1] = g < 0 ? 0 : g > 255 ? 255 : g + 0.5;
        dst[o + 2] = b < 0 ? 0 : b > 255 ? 255 : b + 0.5;
        dst[o + 3] = 255;
      }
    }
  }
  async function trackY4m(v, blob, h, maxFrames = Infinity) {
    let off = h.headerBytes, index = 0;
    if (off + 6 + h.planeBytes > blob.size) throw new Error('Y4M: no whole frame after the header (cut short?)');
    while (off < blob.size && !v.stopped && index < maxFrames) {
      if (v.paused) await new Promise((r) => { v.resumeY4m = r; });
      const lineBytes = new Uint8Array(await blob.slice(off, off + 256).arrayBuffer());
      const nl = lineBytes.indexOf(10);
      if (nl < 0 || new TextDecoder().decode(lineBytes.subarray(0, 5)) !== 'FRAME') throw new Error(`Y4M: no FRAME header at byte ${off}`);
      off += nl + 1;
      if (off + h.planeBytes > blob.size) break;  // a frame cut short at the end
      const yuv = new Uint8Array(await blob.slice(off, off + h.planeBytes).arrayBuffer());
      off += h.planeBytes;
      const timing = { start: now() };
      const i = index++;
      const rgba = new Uint8Array(h.W * h.H * 4);  // (a clamped array would round r + 0.5 again)
      i420ToRgba(yuv, h.W, h.H, h.C === 'mono', rgba);
      timing.grab = now() - timing.start;
      await serial(() => trackFrame(v, h.W, h.H, rgba, i / h.fps, timing, { source_frame: i }));
      ++v.seen;
    }
  }

  // A video file: Y4M read here (every frame), anything else the browser plays
  // (in real time: frames that arrive while the networks are busy are dropped).
  // Errors name the file, as `facekeys track`'s do, and show in the page whoever asked.
  async function trackVideoFile(blob, name, options = {}) {
    try {
      return await trackVideoFileSession(blob, name, options);
    } catch (e) {
      setStatus(e && e.message ? e.message : String(e), true);
      throw e;
    }
  }
  async function trackVideoFileSession(blob, name, options) {
    await ready;
    const named = (e) => new Error(`${name}: ${e && e.message ? e.message : e}`);
    const h = await readY4mHeader(blob).catch((e) => { throw named(e); });
    const v = await beginSession('file', name, options);
    v.reader = h ? 'y4m' : 'element';
    if (h) {
      st.mod._fk_video_state(1, 0);
      try {
        await trackY4m(v, blob, h, options.maxFrames > 0 ? options.maxFrames : Infinity);
      } catch (e) {
        throw named(e);
      } finally {
        endSession();
      }
    } else {
      const video = videoElement();
      const url = URL.createObjectURL(blob);
      v.video = video;
      v.cleanup.push(() => { video.pause(); video.removeAttribute('src'); video.load(); video.remove(); URL.revokeObjectURL(url); });
      const ended = new Promise((resolve, reject) => {
        video.addEventListener('ended', resolve, { once: true });
        video.addEventListener('error', () => reject(new Error(`${name}: this browser cannot play it (${video.error ? video.error.message || video.error.code : 'unknown error'})`)), { once: true });
        v.cleanup.push(resolve);
      });
      ended.catch(() => {});  // play() may fail first (below)
      followVideoElement(v, video, (nowMs, meta) => meta.mediaTime);
      video.src = url;
      try {
        await video.play().catch(() => {
          throw new Error(`${name}: not a video this browser can play (corrupt, or an unsupported format)`);
        });
        st.mod._fk_video_state(1, 0);
        await ended;
        await serial(() => {});
      } finally {
        endSession();
      }
    }
    videoStats(v);
    setStatus(`${name}: ${v.frames.length} frames tracked${v.dropped ? ` (${v.dropped} dropped while busy)` : ''}.`);
    return v.frames;
  }

  function downloadFrames() {
    const v = st.video;
    if (!v || !v.frames.length) return setStatus('No video frames to download yet.', true);
    const lines = v.frames.map((f) => JSON.stringify(f)).join('\n') + '\n';
    download(new Blob([lines], { type: 'application/x-ndjson' }), `${v.kind === 'camera' ? 'camera' : stem(v.name)}.frames.jsonl`);
  }

  // ---- called from C++ (platform_web.hpp) -------------------------------------------
  window.facekeysApp = {
    // The video layer's place in the canvas, in CSS pixels; width 0: hidden (overlay_view.cpp).
    placeVideoLayer(x, y, w, h) {
      videoLayer.style.display = w > 0 ? 'block' : 'none';
      if (w > 0) Object.assign(videoView.style, { left: `${x}px`, top: `${y}px`, width: `${w}px`, height: `${h}px` });
    },
    redrawVideoLayer: () => { try { redrawVideoLayer(); } catch (e) { setStatus(e.message, true); } },
    openFilePicker: () => fileInput.click(),
    selectPhoto: (i) => {
      if (i < 0 || i >= st.photos.length) return;
      process(i).catch(() => {});
    },
    selectModel: (i) => {
      const k = st.models.findIndex((m) => m.index === i);
      if (k < 0) return;
      st.model = k;
      if (st.current >= 0) process(st.current, { redetect: false }).catch(() => {});
    },
    rerunDetection: () => { if (st.current >= 0) process(st.current, { redetect: true }).catch(() => {}); },
    manualBox: (x, y, w, h) => {
      if (st.current >= 0) process(st.current, { manualBox: [x, y, w, h] }).catch(() => {});
    },
    exportJson,
    exportPng,
    startCamera: () => startCamera().catch((e) => setStatus(e && e.message ? e.message : String(e), true)),
    openVideoPicker: () => videoInput.click(),
    togglePause,
    stopVideo: () => { stopVideo().catch(() => {}); },
    downloadFrames,
    // Another model picked while a video runs: a new tracker between two frames (its session goes on).
    selectVideoModel: (i) => {
      const k = st.models.findIndex((x) => x.index === i);
      const v = st.video;
      if (k < 0 || !v || v.stopped) return;
      serial(async () => {
        if (v.stopped) return;
        await modelSession(VIDEO, st.models[k]);  // loaded (and checked) before the tracker asks for it
        if (st.mod._fk_track_set_model(i) < 0) throw moduleError('video');
        st.model = k;
        v.modelIndex = k;
        v.model = st.models[k];
        setStatus(`${v.kind === 'camera' ? 'Camera' : v.name}: tracking faces with ${v.model.id}`);
      }).catch((e) => setStatus(e && e.message ? e.message : String(e), true));
    },
    fatal: (msg) => setStatus(msg, true),
    onReady: () => {},
  };

  // ---- start -----------------------------------------------------------------------
  async function readIndex() {
    try {
      const r = await fetch('models/index.json');
      if (r.status === 404) return { index: { default: '', models: [] }, error: '' };  // a build without models
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const index = await r.json();
      if (!Array.isArray(index.models)) throw new Error("no 'models' list");
      return { index, error: '' };
    } catch (e) {
      return { index: { default: '', models: [] }, error: e.message };
    }
  }
  const fetchCard = (id) => fetch(`models/${id}/model.json`).then((r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.text();
  });

  // Runs of each network on a blank photo, so that the first real photo finds them
  // warm (ONNX Runtime plans and allocates each input shape on its first run): the
  // detector, then the keypoint model once for each number of faces a photo's run
  // can take, the largest first (the module says how many: fk_warmup_begin). In the
  // serial queue: a photo dropped meanwhile waits for the run under way, not beside
  // it, and the keypoint runs left are skipped (the photo's own first run costs less
  // than waiting for them and then its own).
  // pool: the worker whose sessions to warm. VIDEO (before a video's first frame,
  // prepareVideo): every run is made, and the keypoint model's once, as the tracker
  // runs it (one face, no flip test: the video default).
  // The video worker's keypoint run (one face, no flip test: a tracked frame's) is repeated up to
  // VIDEO_WARM_RUNS times or VIDEO_WARM_MS: V8 runs a worker's WebAssembly in its baseline tier
  // until enough calls have had its optimising compiler (on background threads) make faster code, and
  // after one warm run the camera's first 1.5 s here took 35-250 ms a frame (15 later) and lost 24-25
  // frames; after 60, 4 (docs/WEB.md, "Live video"). A camera mostly waits for the user's permission
  // meanwhile (prepareVideo).
  const VIDEO_WARM_RUNS = 60, VIDEO_WARM_MS = 2000;
  function warmUp(modelIndex, pool = PHOTOS) {
    return serial(async () => {
      const m = st.mod, model = st.models[modelIndex];
      const k = model ? model.index : -1;
      const most = m._fk_warmup_begin(k);
      if (most < 0) throw moduleError('warm-up');
      try {
        await runJob(-1, { redetect: true }, {}, pool);
        const t0 = now();
        const faces = pool === VIDEO ? (most > 0 ? Array(VIDEO_WARM_RUNS).fill(1) : [])
          : Array.from({ length: most }, (_, i) => most - i);
        for (const n of faces) {
          if (st.waiting > 0 && pool !== VIDEO) break;
          if (pool === VIDEO && now() - t0 > VIDEO_WARM_MS) break;
          if (m._fk_warmup_keypoints(k, n, pool === VIDEO ? 0 : -1) < 0) throw moduleError('warm-up');
          await runNetworks({ ...PHOTO_JOB, pool }, model, {});
        }
      } finally { m._fk_warmup_end(); }
    });
  }

  // Start-up, in parallel where the steps allow: ONNX Runtime compiles its own
  // WebAssembly and makes the detector's session while the module instantiates
  // and the model cards arrive; then the default model's session (its file is
  // checked against its card by the module first). `ready` resolves then; the
  // warm-up inference follows without holding it.
  async function start() {
    onnx(PHOTOS);  // the worker starts ONNX Runtime (its WebAssembly) meanwhile
    const moduleP = createFacekeysModule({ canvas, print: (s) => console.log(s), printErr: (s) => console.warn(s) });
    st.modReady = moduleP.then((m) => { st.mod = m; performance.mark('facekeys:module'); });
    const detector = detectorSession(PHOTOS);
    detector.catch(() => {});  // reported below
    const { index, error: indexError } = await readIndex();
    const cards = index.models.map((id) => fetchCard(id).then((text) => ({ text }), (e) => ({ error: e })));
    st.mod = await moduleP;
    for (let i = 0; i < index.models.length; ++i) {
      const id = index.models[i];
      try {
        const c = await cards[i];
        if (c.error) throw c.error;
        const card = JSON.parse(c.text);
        const k = withString(id, (pid) => withString(c.text, (pt) => st.mod._fk_add_model(pid, pt)));
        if (k < 0) throw moduleError('bad model card');
        st.models.push({ id, card, index: k });
      } catch (e) {
        setStatus(`Model ${id}: ${e.message}`, true);
      }
    }
    // The default: the core's rule (default_model_name), as `facekeys predict`: the folder
    // named in index.json (the DEFAULT file's name), else the first model in name order.
    const dk = withString(String(index.default || ''), (p) => st.mod._fk_default_model(p));
    const d = st.models.findIndex((m) => m.index === dk);
    if (index.default && d >= 0 && st.models[d].id !== index.default)
      console.warn(`facekeys: the default model '${index.default}' is not here: using '${st.models[d].id}'`);
    st.defaultModel = st.model = d >= 0 ? d : 0;
    if (st.models.length) st.mod._fk_select_model(st.models[st.model].index);
    performance.mark('facekeys:cards');
    const model = st.models.length ? modelSession(PHOTOS, st.models[st.model]) : Promise.resolve();
    detector.then(() => performance.mark('facekeys:detector-session'), () => {});
    model.then(() => performance.mark('facekeys:model-session'), () => {});
    await detector;
    let modelError = null;
    await model.catch((e) => { modelError = e; });
    if (indexError) setStatus(`models/index.json cannot be read (${indexError}): faces only.`, true);
    else if (!st.models.length) setStatus('No keypoint models are shipped with this build: faces only.', true);
    else if (modelError) setStatus(modelError.message, true);
    else setStatus('Ready: open, drop or paste photos (JPEG, PNG, WebP). Nothing leaves your browser.');
    performance.mark('facekeys:ready');
    warmUp(modelError ? -1 : st.model).then(() => performance.mark('facekeys:warm'),
                                            (e) => console.warn('facekeys: warm-up:', e && e.message));
  }

  const ready = start().catch((e) => { setStatus(`Start-up failed: ${e && e.message ? e.message : e}`, true); throw e; });

  // ---- the scripting interface -----------------------------------------------------------
  async function toBlob(blobOrUrl) {
    if (blobOrUrl instanceof Blob) return { blob: blobOrUrl, name: blobOrUrl.name || 'image' };
    const url = new URL(String(blobOrUrl), location.href);
    if (url.origin !== location.origin && url.protocol !== 'blob:' && url.protocol !== 'data:')
      throw new Error(`facekeys.predict: ${url.href} is not on this page's origin`);
    const r = await fetch(url);
    if (!r.ok) throw new Error(`facekeys.predict: ${url.href}: HTTP ${r.status}`);
    return { blob: await r.blob(), name: decodeURIComponent(url.pathname.split('/').pop() || 'image') };
  }

  window.facekeys = {
    ready,
    async predict(blobOrUrl, options = {}) {
      await ready;
      const { blob, name } = await toBlob(blobOrUrl);
      let modelIndex = st.model;
      if (options.model !== undefined && options.model !== null) {
        modelIndex = st.models.findIndex((m) => m.id === options.model || m.card.name === options.model);
        if (modelIndex < 0) throw new Error(`facekeys.predict: unknown model '${options.model}' (have: ${st.models.map((m) => m.id).join(', ')})`);
      }
      st.photos.push({ blob, name: options.name || name, result: null });
      return process(st.photos.length - 1, { modelIndex });
    },
    models() {
      return st.models.map((m, i) => ({
        id: m.id, name: m.card.name, arch: m.card.arch, schema: m.card.landmarks.schema,
        num_points: m.card.landmarks.num_points, input: m.card.input, crop: m.card.crop,
        output: m.card.output.kind, default: i === st.defaultModel,
      }));
    },
    // for tests and scripts
    status: () => ({ message: st.lastMessage, error: st.lastError, jpegScanMs: st.lastJpegScanMs }),
    // the module's WebAssembly memory (it only grows), for scripts/bench-memory.sh
    memory: () => ({ wasm_bytes: st.mod.HEAPU8.buffer.byteLength }),
    view: () => JSON.parse(st.mod.UTF8ToString(st.mod._fk_view_json())),
    setOverlay: (on) => st.mod._fk_set_overlay(on ? 1 : 0),
    setHeatmap: (on) => st.mod._fk_set_heatmap(on ? 1 : 0),
    setThreshold: (t) => st.mod._fk_set_threshold(t),
    overlayPng,
    // NME of one face's points against the truth ([[x, y], ...] in pixels), normalised by the
    // schema's outer eye corners: the core's nme_per_image, as `facekeys eval` and the native tests.
    nme(points, truth, schema = 'ibug68') {
      const m = st.mod, n = truth.length;
      if (points.length !== n) throw new Error(`facekeys.nme: ${points.length} points against ${n}`);
      const p = m._malloc(16 * n);
      try {
        const f = new Float32Array(4 * n);
        for (let i = 0; i < n; ++i) {
          const q = points[i];
          f[2 * i] = q && q[0] !== null ? q[0] : NaN; f[2 * i + 1] = q && q[1] !== null ? q[1] : NaN;
          f[2 * n + 2 * i] = truth[i][0]; f[2 * n + 2 * i + 1] = truth[i][1];
        }
        m.HEAPF32.set(f, p / 4);
        const v = withString(schema, (sp) => m._fk_nme(p, p + 8 * n, n, sp));
        if (v < 0) throw moduleError('nme');
        return v;
      } finally { m._free(p); }
    },
    photos: () => st.photos.map((p) => ({ name: p.name, result: p.result })),
    // Live video through the core's tracker. start({model, detectEvery, smoothing, flipTest, reader}) resolves
    // once frames flow (the first frame is tracked; reader 'element': the camera's frames through a <video>
    // element even where camera_worker.js could read them); onFrame(cb) calls cb({frame, t_ms, detected, faces: [{id, box,
    // score, confidence, points, pose, eyes, mouth}], timing_ms}, {width, height, rgba}) for each tracked
    // frame (rgba: its pixels, valid during the call) and returns a function that removes cb; stop()
    // resolves to the session's frames.
    camera: {
      start: (options = {}) => startCamera(options),
      onFrame(cb) {
        st.videoListeners.add(cb);
        return () => st.videoListeners.delete(cb);
      },
      stop: () => stopVideo(),
      pause() { if (st.video && !st.video.paused) togglePause(); },
      resume() { if (st.video && st.video.paused) togglePause(); },
      // the session's figures: frames tracked, dropped while busy, seen, frames per second (last second),
      // reader: where the frames come from ('worker': camera_worker.js, 'element': a <video> element,
      // 'y4m': a Y4M file read by the page)
      stats() {
        const v = st.video;
        if (!v) return null;
        return { frames: v.frames.length, dropped: v.dropped, seen: v.seen, fps: videoStats(v), last: v.last,
                 reader: v.reader };
      },
      frames: () => (st.video ? st.video.frames : []),
    },
    // A video file (Blob or same-origin URL) through the same path: resolves to its frames. Y4M files are
    // read by the page, every frame in order (record.source_frame; options.maxFrames: the first so many);
    // other formats play in real time (frames that arrive while the networks are busy are dropped).
    // Options as camera.start.
    async video(blobOrUrl, options = {}) {
      await ready;
      const { blob, name } = await toBlob(blobOrUrl);
      return trackVideoFile(blob, options.name || name, options);
    },
  };
})();
