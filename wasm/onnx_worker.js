// ONNX Runtime Web in a worker of the page's own (started by wasm/app_glue.js, `onnx()`): the
// networks run here, off the main thread, where ImGui draws and video frames are grabbed.
// Why not ONNX Runtime's own proxy worker (ort.env.wasm.proxy, which the page used before):
// measured in this page, its round trip took 25-43 ms for a U-Net run of about 15 ms, where this
// worker adds under a millisecond (docs/WEB.md, "Live video").
//
// Its one setting comes in its URL, onnx_worker.js?threads=N (ONNX Runtime's threads), so that
// ONNX Runtime starts as soon as this script runs: a message sent to a worker that is still
// starting reaches it only when the page's main thread is free again, which at start-up (the
// module, its WebGL context) was up to 0.6 s later, and ONNX Runtime's start, the compile of its
// 14 MB of WebAssembly, is what a first visit waits for (docs/WEB.md, "Start-up and the first photo").
//
// Messages, each answered with {id, ...} or {id, error}:
//   {id, op: 'create', bytes}                    -> {id, session}      (a session number)
//   {id, op: 'run', session, input, data, dims}  -> {id, outputs}      ({name: Float32Array}, transferred)
//   {id, op: 'release', session}                 -> {id}
/* global ort */
importScripts('ort/ort.wasm.min.js');

ort.env.wasm.wasmPaths = new URL('ort/', self.location.href).href;
ort.env.wasm.numThreads = Number(new URL(self.location.href).searchParams.get('threads')) || 1;
ort.env.logLevel = 'error';
// ONNX Runtime fetches, compiles and starts its WebAssembly on its first session, before it reads
// the model: a session of an empty model starts all that now, while the page checks the files of
// the real ones (and fails, as it should, once ONNX Runtime is up).
ort.InferenceSession.create(new Uint8Array(0)).catch(() => {});

const sessions = new Map();
let nextSession = 1;

const ops = {
  async create({ bytes }) {
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all',
                                                         logSeverityLevel: 3 });
    sessions.set(nextSession, s);
    return { session: nextSession++ };
  },
  async run({ session, input, data, dims }) {
    const s = sessions.get(session);
    if (!s) throw new Error(`no session ${session}`);
    const out = await s.run({ [input]: new ort.Tensor('float32', data, dims) });
    const outputs = {};
    for (const [name, t] of Object.entries(out)) outputs[name] = t.data;
    return { outputs, transfer: Object.values(outputs).map((d) => d.buffer) };
  },
  async release({ session }) {
    const s = sessions.get(session);
    sessions.delete(session);
    if (s) await s.release();
    return {};
  },
};

self.onmessage = async ({ data: msg }) => {
  try {
    const { transfer = [], ...reply } = await ops[msg.op](msg);
    self.postMessage({ id: msg.id, ...reply }, transfer);
  } catch (e) {
    self.postMessage({ id: msg.id, error: String(e && e.message ? e.message : e) });
  }
};
