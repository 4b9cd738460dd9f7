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
importScripts('frame_rgba.js');  // facekeysRgba.ofFrame: copyTo, or a canvas where it cannot, as the page

let stop = () => {}, paused = false;

async function readFrames(reader) {
  for (;;) {
    const { value: frame, done } = await reader.read();
    if (done) { self.postMessage({ op: 'ended' }); return; }
    try {
      if (paused) continue;
      const { width, height, pixels } = await facekeysRgba.ofFrame(frame);
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
