// A video frame's pixels as RGBA, for the page (app_glue.js: the frames of a <video> element) and
// camera_worker.js (a camera's frames), each loading this as a classic script. VideoFrame.copyTo
// converts a camera's YUV frame without a canvas; where it cannot (from that frame on), and for a
// source that is not a VideoFrame (a <video> element in a browser without VideoFrame), the frame is
// drawn through a canvas and read back.
//   facekeysRgba.ofFrame(videoFrame)             -> Promise<{width, height, pixels}>
//   facekeysRgba.ofSource(source, width, height) -> {width, height, pixels}
self.facekeysRgba = (() => {
  'use strict';
  let copyToWorks = true, canvas = null;
  function ofSource(source, width, height) {
    if (!canvas || canvas.width !== width || canvas.height !== height) {
      canvas = new OffscreenCanvas(width, height);
      canvas.ctx = canvas.getContext('2d', { willReadFrequently: true });
    }
    canvas.ctx.drawImage(source, 0, 0, width, height);
    return { width, height, pixels: canvas.ctx.getImageData(0, 0, width, height).data };
  }
  async function ofFrame(frame) {
    const { width, height } = frame.visibleRect;
    if (copyToWorks) {
      try {
        const pixels = new Uint8Array(width * height * 4);
        const [plane] = await frame.copyTo(pixels, { format: 'RGBA', colorSpace: 'srgb' });
        if (plane.stride !== width * 4) throw new Error('unexpected pixel layout');
        return { width, height, pixels };
      } catch (e) {
        copyToWorks = false;
        console.warn('facekeys: VideoFrame.copyTo cannot convert the frames, reading them through a canvas:', e);
      }
    }
    return ofSource(frame, width, height);
  }
  return { ofFrame, ofSource };
})();
