// The camera's frames, read in a worker of the page's own (started by wasm/app_glue.js,
// `followCameraWorker`): every frame the camera captures reaches the page, converted to RGBA here,
// off the main thread. Why not the <video> element's requestVideoFrameCallback (still the path of
// browsers without MediaStreamTrackProcessor, and of video files): that callback runs at most once
// per rendering of the page, so while the main thread is busy two camera frames can be presented
// between two callbacks and the page never sees the first (measured in headless Chromium on 2
// cores: the camera delivered 30.0 frames a second, the callback saw 26.6; docs/WEB.md).
//
// Messages in:  {op: 'start', readable}  (a MediaStreamTrackProcessor's stream of VideoFrames,
//                                         transferred: Chromium hands its frames straight here),
//               {op: 'pause', paused}, {op: 'stop'}
// Messages out: {op: 'started'} or {op: 'unsupported', why} (the page then uses a <video> element),
//               {op: 'frame', width, height, pixels, t} (RGBA, transferred; t: capture time, seconds),
//               {op: 'error', message}, {op: 'ended'}
let stop = () => {}, paused = false;

// A frame's RGBA pixels: VideoFrame.copyTo converts a camera's YUV frames; a browser whose copyTo
// cannot (this frame on) has them drawn through a canvas.
let copyToWorks = true, canvas = null;
async function rgbaOf(frame, width, height) {
  if (copyToWorks) {
    try {
      const pixels = new Uint8Array(width * height * 4);
      const [plane] = await frame.copyTo(pixels, { format: 'RGBA', colorSpace: 'srgb' });
      if (plane.stride !== width * 4) throw new Error('unexpected pixel layout');
      return pixels;
    } catch (e) {
      copyToWorks = false;
      console.warn('facekeys: VideoFrame.copyTo cannot convert the frames, reading them through a canvas:', e);
    }
  }
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    canvas = new OffscreenCanvas(width, height);
    canvas.ctx = canvas.getContext('2d', { willReadFrequently: true });
  }
  canvas.ctx.drawImage(frame, 0, 0, width, height);
  return new Uint8Array(canvas.ctx.getImageData(0, 0, width, height).data.buffer);
}

async function readFrames(reader) {
  for (;;) {
    const { value: frame, done } = await reader.read();
    if (done) { self.postMessage({ op: 'ended' }); return; }
    try {
      if (paused) continue;
      const { width, height } = frame.visibleRect;
      const pixels = await rgbaOf(frame, width, height);
      self.postMessage({ op: 'frame', width, height, pixels, t: frame.timestamp / 1e6 }, [pixels.buffer]);
    } finally {
      frame.close();  // at once: a camera captures into a few buffers
    }
  }
}

self.onmessage = ({ data: msg }) => {
  if (msg.op === 'start') {
    let reader;
    try {
      reader = msg.readable.getReader();
    } catch (e) {
      self.postMessage({ op: 'unsupported', why: String(e && e.message ? e.message : e) });
      return;
    }
    stop = () => reader.cancel().catch(() => {});
    self.postMessage({ op: 'started' });
    readFrames(reader).catch((e) => self.postMessage({ op: 'error', message: String(e && e.message ? e.message : e) }));
  } else if (msg.op === 'pause') {
    paused = msg.paused;
  } else if (msg.op === 'stop') {
    stop();
  }
};
