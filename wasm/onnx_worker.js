// ONNX Runtime Web in a worker of the page's own (started by wasm/app_glue.js, `onnx()`): the
// networks run here, off the main thread, where ImGui draws and video frames are grabbed.
// Why not ONNX Runtime's own proxy worker (ort.env.wasm.proxy, which the page used before):
// measured in this page, its round trip took 25-43 ms for a U-Net run of about 15 ms, where this
// worker adds under a millisecond (docs/WEB.md, "Live video").
//
// Messages, each answered with {id, ...} or {id, error}:
//   {id, op: 'init', wasmPaths, numThreads}
//   {id, op: 'create', bytes}                    -> {id, session}      (a session number)
//   {id, op: 'run', session, input, data, dims}  -> {id, outputs}      ({name: Float32Array}, transferred)
//   {id, op: 'release', session}                 -> {id}
/* global ort */
importScripts('ort/ort.wasm.min.js');

const sessions = new Map();
let nextSession = 1;

const ops = {
  init({ wasmPaths, numThreads }) {
    ort.env.wasm.wasmPaths = wasmPaths;
    ort.env.wasm.numThreads = numThreads;
    ort.env.logLevel = 'error';
    return {};
  },
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
