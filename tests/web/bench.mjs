// Benchmark (not a test): photo -> points for a 12-megapixel JPEG in headless
// Chromium with the default model, and the bytes a first visit downloads.
//   node tests/web/bench.mjs [RUNS]     prints one JSON object
// The 12 MP JPEG is an IMM photo upscaled to 4000x3000 in the page (quality 0.92).
import { readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import os from 'node:os';
import { serve, openPage, twelveMegapixelJpeg, DIST, DATA } from './harness.mjs';

const RUNS = Number(process.argv[2] || 5);
const srv = await serve();
const t0 = Date.now();
const b = await openPage(srv, { isolated: true });  // a returning visitor's page: ONNX Runtime's threads
const pageReadyMs = Date.now() - t0;
try {
  // bytes of the first visit: every same-origin file fetched up to "ready" (the
  // default model included), gzipped as a static host would send them
  const files = [...new Set(b.requests.filter((u) => u.startsWith(srv.origin)).map((u) => new URL(u).pathname))];
  let raw = 0, gz = 0;
  const perFile = {};
  for (const f of files) {
    const p = path.join(DIST, f === '/' ? 'index.html' : decodeURIComponent(f));
    try { statSync(p); } catch { continue; }
    const data = readFileSync(p);
    const z = gzipSync(data, { level: 9 }).length;
    raw += data.length; gz += z;
    perFile[f] = { bytes: data.length, gzip: z };
  }
  const big = await twelveMegapixelJpeg(b.page, readFileSync(path.join(DATA, 'imm_face_db/01-1m.jpg')));
  const timings = await b.page.evaluate(async ({ big, runs }) => {
    const jpg = new Blob([new Uint8Array(big)], { type: 'image/jpeg' });
    const out = [];
    for (let i = 0; i < runs + 1; ++i) {
      const r = await window.facekeys.predict(new File([jpg], 'bench12mp.jpg'));
      if (i > 0) out.push(r.timing_ms);  // the first run loads the model
    }
    return { runs: out, jpeg_bytes: jpg.size, faces: (await window.facekeys.predict(new File([jpg], 'x.jpg'))).faces.length,
             isolated: self.crossOriginIsolated, threads: navigator.hardwareConcurrency };
  }, { big: Array.from(big), runs: RUNS });
  const median = {};
  for (const k of Object.keys(timings.runs[0])) {
    const v = timings.runs.map((r) => r[k]).sort((a, c) => a - c);
    median[k] = v[Math.floor(v.length / 2)];
  }
  const model = (await b.page.evaluate(() => window.facekeys.models())).find((m) => m.default);
  console.log(JSON.stringify({
    date: new Date().toISOString(), machine: `${os.cpus()[0].model}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
    chromium: b.context.browser() ? b.context.browser().version() : 'chromium', default_model: model && model.id,
    photo: '4000x3000 JPEG', jpeg_bytes: timings.jpeg_bytes, faces: timings.faces, cross_origin_isolated: timings.isolated,
    median_ms: median, runs: timings.runs, page_ready_ms: pageReadyMs,
    first_visit: { files: files.length, bytes: raw, gzip_bytes: gz, per_file: perFile },
  }, null, 2));
} finally {
  await b.close();
  srv.close();
}
