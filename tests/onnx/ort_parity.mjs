// ONNX Runtime parity of exported models (run by ctest as export_parity_onnxruntime):
//   node tests/onnx/ort_parity.mjs build/native/tests/export_parity
// Each <dir>/<arch>/ holds parity.safetensors ("input", "expected": LibTorch's
// output, "expected_int8": the same with int8-rounded weights, "expected_flip":
// LibTorch's flip test), export/, export_int8/, export_int8_folded/ and export_flip/
// (model.{onnx,json}), written by native_tests "[parity]".
// Fails unless every case's max abs diff is <= 1e-4. Needs
// `ONNXRUNTIME_NODE_INSTALL=skip npm ci` at the repository root.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ort from 'onnxruntime-node';

const TOLERANCE = 1e-4;

function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`${file}: tensor ${name} is ${t.dtype}, expected F32`);
    const [begin, end] = t.data_offsets;
    const bytes = buf.subarray(8 + n + begin, 8 + n + end);
    const data = new Float32Array(bytes.length / 4);
    new Uint8Array(data.buffer).set(bytes);
    tensors[name] = { shape: t.shape, data };
  }
  return tensors;
}

const root = process.argv[2];
if (!root) {
  console.error('usage: node ort_parity.mjs PARITY_DIR');
  process.exit(2);
}
const cases = fs.existsSync(root)
  ? fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, 'parity.safetensors'))).sort()
  : [];
if (cases.length === 0) {
  console.error(`${root}: no parity cases (run native_tests "[parity]" first)`);
  process.exit(1);
}

// Each case has the plain export, its int8 twin (--weights int8), that twin with its
// weights widened by the core as the page does (export_int8_folded) and its flip-test
// twin (--flip-test), each compared with what LibTorch computes for it.
const VARIANTS = [
  { dir: 'export', expected: 'expected' },
  { dir: 'export_int8', expected: 'expected_int8' },
  { dir: 'export_int8_folded', expected: 'expected_int8' },  // what the page hands ONNX Runtime (onnx_fold.hpp)
  { dir: 'export_flip', expected: 'expected_flip' },
];

let failures = 0;
let checked = 0;
for (const arch of cases) {
  const dir = path.join(root, arch);
  let tensors = null, readError = null;
  try { tensors = readSafetensors(path.join(dir, 'parity.safetensors')); } catch (e) { readError = e; }
  for (const variant of VARIANTS) {
    const name = `${arch}/${variant.dir}`;
    checked++;
    try {
      if (readError) throw readError;
      const input = tensors.input, expected = tensors[variant.expected];
      if (!expected) throw new Error(`parity.safetensors has no '${variant.expected}'`);
      const card = JSON.parse(fs.readFileSync(path.join(dir, variant.dir, 'model.json'), 'utf8'));
      if (card.format !== 'facekeys-model-card') throw new Error('model.json is not a facekeys model card');
      const session = await ort.InferenceSession.create(path.join(dir, variant.dir, card.onnx.file));
      const feeds = { [card.onnx.input_name]: new ort.Tensor('float32', input.data, input.shape) };
      const out = (await session.run(feeds))[card.onnx.output_name];
      if (JSON.stringify(Array.from(out.dims)) !== JSON.stringify(expected.shape))
        throw new Error(`output shape [${out.dims}] != LibTorch's [${expected.shape}]`);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < expected.data.length; ++i) {
        diff = Math.max(diff, Math.abs(out.data[i] - expected.data[i]));
        scale = Math.max(scale, Math.abs(expected.data[i]));
      }
      const ok = diff <= TOLERANCE;
      if (!ok) failures++;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${card.onnx.weights || 'float32'} weights): ONNX Runtime vs LibTorch ` +
                  `max abs diff ${diff.toExponential(2)} (outputs up to ${scale.toFixed(3)}, output [${out.dims}])`);
      await session.release?.();
    } catch (e) {
      failures++;
      console.log(`FAIL ${name}: ${e.message}`);
    }
  }
}
console.log(`${checked - failures}/${checked} exports match LibTorch within ${TOLERANCE}`);
process.exit(failures ? 1 : 0);
