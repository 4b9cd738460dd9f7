// Memory under load in the page (not a test; scripts/bench-memory.sh web): the page predicts
// PHOTOS photos in a row through window.facekeys.predict (LFPW and IMM photos, the default
// model) and prints, every 20 photos, the JS heap after a garbage collection (CDP
// HeapProfiler.collectGarbage, then Runtime.getHeapUsage) and the module's WebAssembly memory.
//   node tests/web/bench_memory.mjs [PHOTOS]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { serve, openPage, DATA } from './harness.mjs';

const N = Number(process.argv[2] || 200);
const dirs = [path.join(DATA, '300w/lfpw/testset'), path.join(DATA, 'imm_face_db')];
const files = dirs.flatMap((d) => readdirSync(d).filter((f) => /\.(png|jpg)$/.test(f)).sort().map((f) => path.join(d, f)));
const srv = await serve();
const b = await openPage(srv, { isolated: true });  // a returning visitor's page: ONNX Runtime's threads
try {
  const cdp = await b.context.newCDPSession(b.page);
  const mib = (x) => (x / 1048576).toFixed(1);
  const sample = async (done) => {
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = await cdp.send('Runtime.getHeapUsage');
    const mem = await b.page.evaluate(() => window.facekeys.memory());
    console.log(`${String(done).padStart(6)} ${mib(heap.usedSize).padStart(12)} ${mib(heap.totalSize).padStart(12)} ${mib(mem.wasm_bytes).padStart(12)}`);
  };
  console.log(`web: window.facekeys.predict on ${N} photos in a row (${files.length} distinct, the default model)`);
  console.log(`${'photos'.padStart(6)} ${'js_used_mib'.padStart(12)} ${'js_total_mib'.padStart(12)} ${'wasm_mib'.padStart(12)}`);
  await sample(0);
  const t0 = Date.now();
  for (let i = 0; i < N; ++i) {
    const f = files[i % files.length];
    const r = await b.page.evaluate(async ({ bytes, name }) => {
      try { return (await window.facekeys.predict(new File([new Uint8Array(bytes)], name))).faces.length; } catch (e) { return e.message; }
    }, { bytes: Array.from(readFileSync(f)), name: path.basename(f) });
    if (typeof r !== 'number') throw new Error(`${f}: ${r}`);
    if ((i + 1) % 20 === 0) await sample(i + 1);
  }
  console.log(`web: ${N} photos in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
} finally {
  await b.close();
  srv.close();
}
