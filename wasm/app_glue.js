// facekeys browser glue: image decoding, ONNX Runtime Web sessions, the page's
// inputs (file picker, drag and drop, paste) and the scripting interface
// window.facekeys. Pre- and post-processing and drawing are in C++
// (wasm/main.cpp, through the shared core); this file only moves pixels and
// tensors between the browser and the module and runs the networks.
//
//   window.facekeys.predict(blobOrUrl, {model}) -> the JSON of `facekeys predict`
//   window.facekeys.models()                    -> the shipped models (cards)
//   window.facekeys.ready                       -> resolves when the page can predict
//
// Every file is fetched from the page's own origin (models/, detectors/, ort/).
/* global ort, createFacekeysModule */
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
  const canvas = document.getElementById('canvas');

  const st = {
    mod: null,
    models: [],          // {id, card (parsed JSON), index (in the module)}
    defaultModel: 0,
    model: 0,            // selected model index
    sessions: new Map(), // url -> Promise<InferenceSession>
    photos: [],          // {blob, name, result}
    current: -1,         // photo shown
    committed: -1,       // photo whose pixels the module holds
    committedKeeps: Infinity,  // how many pixels it holds when decoded at reduced scale
    queue: Promise.resolve(),
    lastError: '',
    lastMessage: '',
    lastJpegScanMs: 0,  // the JPEG scan check of the last photo (benchmarks)
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

  // ---- ONNX Runtime ----------------------------------------------------------
  function configureOrt() {
    // Absolute URL (a relative one is resolved against the worker's script).
    ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
    // Threads need cross-origin isolation (COOP/COEP headers or coi-serviceworker).
    ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
    ort.env.logLevel = 'error';
  }
  // Sessions are made from bytes fetched here, so that a model's file is
  // checked first, by the check `facekeys predict` runs before OpenCV
  // (fk_model_check_onnx / fk_detector_check_onnx, model_check.hpp: the card's
  // SHA-256, names, shapes, opset, weight sizes): a model.onnx left from
  // another export, or one ONNX Runtime would take badly, is refused with a
  // clear message instead of drawing wrong points. `model`: the entry of
  // st.models, or null for the detector.
  function session(url, label, model = null) {
    let p = st.sessions.get(url);
    if (!p) {
      p = (async () => {
        const r = await fetch(url);
        if (r.status === 404) throw new Error(`${url}: missing (named by ${model ? `models/${model.id}/model.json` : 'the page'})`);
        if (!r.ok) throw new Error(`HTTP ${r.status} ${r.statusText}`);
        const bytes = new Uint8Array(await r.arrayBuffer());
        checkModelFile(model, bytes, url);
        const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
        if (model) {
          const { input, output } = modelIoNames(model);
          if (!s.inputNames.includes(input) || !s.outputNames.includes(output))
            throw new Error(`the graph's input/output are '${s.inputNames}'/'${s.outputNames}', its card says '${input}'/'${output}'`);
        }
        return s;
      })().catch((e) => {
        st.sessions.delete(url);  // a later try may succeed
        const msg = String(e && e.message ? e.message : e);
        throw new Error(msg.startsWith(url) ? `${label} failed to load: ${msg}` : `${label} failed to load (${url}): ${msg}`);
      });
      st.sessions.set(url, p);
    }
    return p;
  }
  const modelUrl = (m) => `models/${m.id}/${(m.card.onnx && m.card.onnx.file) || 'model.onnx'}`;
  const modelSession = (model) => session(modelUrl(model), `Model ${model.id}`, model);
  const modelIoNames = (model) => ({ input: st.mod.UTF8ToString(st.mod._fk_model_input_name(model.index)),
                                     output: st.mod.UTF8ToString(st.mod._fk_model_output_name(model.index)) });
  function checkModelFile(model, bytes, url) {
    const m = st.mod;
    const p = m._malloc(Math.max(1, bytes.length));
    if (!p) throw new Error('out of memory for the model file');
    try {
      m.HEAPU8.set(bytes, p);
      const r = withString(url, (up) => model ? m._fk_model_check_onnx(model.index, p, bytes.length, up)
                                              : m._fk_detector_check_onnx(p, bytes.length, up));
      if (r < 0) throw moduleError('model file');
    } finally { m._free(p); }
  }

  // ---- image decoding --------------------------------------------------------
  // The shared core checks the file first, as `facekeys predict` does
  // (image_header.hpp): the format, that the file is whole (browsers draw a
  // truncated JPEG or PNG with the missing part grey, without an error), the
  // stored size, and the JPEG decode divisor for the model that will run (its
  // card says how many pixels it needs: keypoint_min_work_pixels).
  const IMAGE_FORMATS = ['', 'jpeg', 'png', 'webp'];  // ImageFormat
  function checkImage(bytes, name, moduleModel, wholeFile = false) {
    const m = st.mod;
    const head = wholeFile ? bytes : bytes.subarray(0, m._fk_image_header_bytes());
    const tail = bytes.subarray(Math.max(0, bytes.length - m._fk_image_tail_bytes()));
    const p = m._malloc(16 + head.length + tail.length);
    try {
      m.HEAPU8.set(head, p + 16);
      m.HEAPU8.set(tail, p + 16 + head.length);
      const r = withString(name, (np) => m._fk_image_check(np, p + 16, head.length, p + 16 + head.length, tail.length,
                                                            bytes.length, moduleModel, p));
      if (r < 0) throw moduleError(`${name}: cannot be read`);
      if (r === 1) return checkImage(bytes, name, moduleModel, true);  // data after a JPEG's end: walk it whole
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
  async function decodeImage(blob, name, moduleModel) {
    if (!blob || blob.size === 0) throw new Error(`${name}: empty file (0 bytes)`);
    // One read of the file (each read of a Blob is a trip to the browser process).
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const plan = checkImage(bytes, name, moduleModel);
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
    const p = st.queue.then(f, f);
    st.queue = p.catch(() => {});
    return p;
  }

  // Decodes photo `index` into the module, with as many pixels as model
  // `moduleModel` needs (process() decodes a photo held at reduced scale
  // again when a model that needs more pixels is picked).
  async function commitPhoto(index, moduleModel, timing) {
    const m = st.mod, photo = st.photos[index];
    const t0 = now();
    st.committed = -1;
    const d = await decodeImage(photo.blob, photo.name, moduleModel);
    st.committedKeeps = d.scaled ? d.ww * d.wh : Infinity;
    const ptr = m._fk_photo_alloc(d.ww, d.wh);
    if (!ptr) throw moduleError('out of memory for the photo');
    m.HEAPU8.set(d.pixels, ptr);
    const ok = withString(photo.name, (p) => m._fk_photo_commit(d.ow, d.oh, d.turns, d.mirror ? 1 : 0, p));
    if (ok < 0) throw moduleError('photo');
    st.committed = index;
    timing.decode = now() - t0;
  }

  async function detect(timing) {
    const m = st.mod;
    const t0 = now();
    const det = await session(DETECTOR_URL, 'The face detector');
    const inPtr = m._fk_detect_input();
    if (!inPtr) throw moduleError('detector input');
    const n = m._fk_tensor_size();
    const input = m.HEAPF32.slice(inPtr / 4, inPtr / 4 + n);
    const shape = [1, 3, m._fk_detect_input_height(), m._fk_detect_input_width()];
    const out = await det.run({ [det.inputNames[0]]: new ort.Tensor('float32', input, shape) });
    const scores = out.scores.data, boxes = out.boxes.data;
    const priors = scores.length / 2;
    const sp = m._fk_scratch(priors * 6) / 4;
    m.HEAPF32.set(scores, sp);
    m.HEAPF32.set(boxes, sp + priors * 2);
    const faces = m._fk_detect_decode(priors, m._fk_threshold(), MAX_FACES);
    if (faces < 0) throw moduleError('face detection');
    timing.detect = now() - t0;
    return faces;
  }

  async function keypoints(modelIndex, timing) {
    const m = st.mod, model = st.models[modelIndex];
    const faces = m._fk_keypoint_runs(model ? model.index : -1);  // whole-image models: one run
    timing.preprocess = 0; timing.infer = 0;
    if (faces === 0 || !model) return;
    let t0 = now();
    const sess = await modelSession(model);
    const t1 = now();
    timing.load = t1 - t0;
    const w = m._fk_model_input_width(model.index), h = m._fk_model_input_height(model.index);
    const per = w * h;
    const batch = new Float32Array(faces * per);
    t0 = now();
    for (let i = 0; i < faces; ++i) {
      const p = m._fk_keypoint_input(model.index, i);
      if (!p) throw moduleError('preprocess');
      batch.set(m.HEAPF32.subarray(p / 4, p / 4 + per), i * per);
    }
    timing.preprocess = now() - t0;
    t0 = now();
    const io = modelIoNames(model);
    const out = await sess.run({ [io.input]: new ort.Tensor('float32', batch, [faces, 1, h, w]) });
    const data = out[io.output].data;
    timing.infer = now() - t0;
    t0 = now();
    const nOut = m._fk_model_output_size(model.index);
    if (data.length !== nOut * faces)
      throw new Error(`Model ${model.id}: output has ${data.length} values, its card promises ${nOut} per face`);
    for (let i = 0; i < faces; ++i) {
      const sp = m._fk_scratch(nOut) / 4;
      m.HEAPF32.set(data.subarray(i * nOut, (i + 1) * nOut), sp);
      if (m._fk_keypoint_output(model.index, i, nOut) < 0) throw moduleError('keypoints');
    }
    timing.preprocess += now() - t0;  // output decoding counts as processing
  }

  function finish(index, modelIndex, timing, tStart) {
    const m = st.mod;
    timing.total = now() - tStart;
    m._fk_set_timings(timing.decode || 0, timing.detect || 0, timing.preprocess || 0, timing.infer || 0, timing.total);
    const result = JSON.parse(m.UTF8ToString(m._fk_result_json(st.models[modelIndex] ? st.models[modelIndex].index : -1)));
    const r = (x) => Math.round((x || 0) * 100) / 100;
    result.timing_ms = { decode: r(timing.decode), detect: r(timing.detect), preprocess: r(timing.preprocess),
                         infer: r(timing.infer), total: r(timing.total) };
    if (timing.load) result.timing_ms.model_load = r(timing.load);
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
          await commitPhoto(index, moduleModel, timing);
          redetect = !manualBox;
        }
        if (manualBox) {
          if (m._fk_set_manual_face(...manualBox) < 0) throw moduleError('face box');
        } else if (redetect) {
          await detect(timing);
        }
        let modelError = null;
        try {
          await keypoints(modelIndex, timing);
        } catch (e) {
          modelError = e;
        }
        const result = finish(index, modelIndex, timing, tStart);
        if (modelError) throw modelError;
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
  // The photo at its original size with the points, lines and boxes drawn on it.
  async function overlayPng(index = st.current) {
    const photo = st.photos[index];
    if (!photo || !photo.result) throw new Error('Nothing to export yet.');
    const r = photo.result;
    const bmp = await createImageBitmap(photo.blob, { imageOrientation: 'from-image', colorSpaceConversion: 'none' });
    const c = new OffscreenCanvas(r.width, r.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(bmp, 0, 0, r.width, r.height);
    bmp.close();
    const model = st.models.find((m) => m.card.name === r.model || m.id === r.model);
    let schema = null;
    if (model) schema = JSON.parse(st.mod.UTF8ToString(st.mod._fk_model_schema_json(model.index)) || 'null');
    const lw = Math.max(1, Math.round(Math.max(r.width, r.height) / 600));
    for (const f of r.faces) {
      ctx.strokeStyle = f.manual ? 'rgb(0,200,255)' : 'rgb(255,200,0)';
      ctx.lineWidth = lw * 2;
      // boxes are continuous pixel extents; canvas pixel (i, j) covers [i, i+1)
      ctx.strokeRect(f.box[0] + 0.5, f.box[1] + 0.5, f.box[2], f.box[3]);
      const P = (p) => [p[0] + 0.5, p[1] + 0.5];
      const decoded = (p) => p && p[0] !== null && p[1] !== null;  // null: a coordinate not decoded
      if (schema) {
        ctx.strokeStyle = 'rgba(255,60,60,0.9)';
        ctx.lineWidth = lw;
        for (const pl of schema.polylines) {
          const pts = pl.indices.map((i) => f.points[i]).filter(decoded);
          if (pts.length < 2) continue;
          ctx.beginPath();
          ctx.moveTo(...P(pts[0]));
          for (const p of pts.slice(1)) ctx.lineTo(...P(p));
          if (pl.closed) ctx.closePath();
          ctx.stroke();
        }
      }
      ctx.fillStyle = 'rgb(0,255,80)';
      for (const p of f.points) {
        if (!decoded(p)) continue;
        ctx.beginPath();
        ctx.arc(...P(p), lw * 2, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    return c.convertToBlob({ type: 'image/png' });
  }
  async function exportPng() {
    try {
      const photo = st.photos[st.current];
      download(await overlayPng(), `${stem(photo.name)}.facekeys.png`);
    } catch (e) { setStatus(e.message, true); }
  }

  // ---- called from C++ (platform_web.hpp) -------------------------------------------
  window.facekeysApp = {
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
    fatal: (msg) => setStatus(msg, true),
    onReady: () => {},
  };

  // ---- start -----------------------------------------------------------------------
  async function start() {
    configureOrt();
    st.mod = await createFacekeysModule({
      canvas,
      print: (s) => console.log(s),
      printErr: (s) => console.warn(s),
    });
    let index = { default: '', models: [] };
    let indexError = '';
    try {
      const r = await fetch('models/index.json');
      if (r.ok) index = await r.json();
      else if (r.status !== 404) indexError = `HTTP ${r.status}`;  // 404: a build without models
      if (!Array.isArray(index.models)) throw new Error("no 'models' list");
    } catch (e) {
      indexError = e.message;
      index = { default: '', models: [] };
    }
    for (const id of index.models) {
      try {
        const r = await fetch(`models/${id}/model.json`);
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const text = await r.text();
        const card = JSON.parse(text);
        const k = withString(id, (pid) => withString(text, (pt) => st.mod._fk_add_model(pid, pt)));
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
    // Warm the detector and the default model so the first photo is fast.
    await session(DETECTOR_URL, 'The face detector');
    if (st.models.length) {
      modelSession(st.models[st.model]).catch((e) => setStatus(e.message, true));
    }
    if (indexError) setStatus(`models/index.json cannot be read (${indexError}): faces only.`, true);
    else if (!st.models.length) setStatus('No keypoint models are shipped with this build: faces only.', true);
    else setStatus('Ready: open, drop or paste photos (JPEG, PNG, WebP). Nothing leaves your browser.');
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
  };
})();
