import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import path from 'node:path';
import { serve, openPage, makeTestVideo, paintFrameCodes, fakeCameraArgs } from './harness.mjs';
const tmp = mkdtempSync(path.join(tmpdir(), 'p6-'));
const video = makeTestVideo(tmp); video.camera = path.join(tmp, 'camera.y4m'); paintFrameCodes(video.y4m, video.camera);
const srv = await serve();
const b = await openPage(srv, { args: fakeCameraArgs(video.camera) });
b.page.on('console', (m) => { if (/DRAW/.test(m.text())) console.log(m.text()); });
await b.page.evaluate(() => window.facekeys.camera.start({}));
for (let i = 0; i < 6; ++i) {
  await b.page.waitForTimeout(400);
  const r = await b.page.evaluate(() => ({ last: window.facekeys.camera.stats().last, view: window.facekeys.view() }));
  await b.page.screenshot({ path: `/work/exp/p6_${i}.png` });
  const f = r.last.faces[0];
  console.log(i, 'frame', r.last.frame, f ? JSON.stringify(f.box.map(Math.round)) : 'none', 'faces shown', r.view.faces);
}
await b.close(); srv.close(); process.exit(0);
