// The Emscripten quirks of the browser app, in one place.
//
// - No blocking main loop: the browser owns the event loop, so main() registers
//   a per-frame callback with emscripten_set_main_loop_arg() and returns
//   (simulate_infinite_loop = 0 so main's locals are not needed afterwards:
//   the app state lives in a static object).
// - The canvas is sized by CSS; its drawing buffer must follow the CSS size
//   times devicePixelRatio every frame, or WebGL renders blurry / stretched.
//   Emscripten's GLFW reports the *buffer* size, so we resize the GLFW window
//   (which resizes the canvas buffer) from the CSS size.
// - WebGL2 = OpenGL ES 3.0: Dear ImGui's OpenGL3 backend needs
//   IMGUI_IMPL_OPENGL_ES3 (set by wasm/CMakeLists.txt) and "#version 300 es".
// - No file system: ImGui must not read or write imgui.ini (IniFilename = null).
// - Inference runs in JavaScript (ONNX Runtime Web is asynchronous); C++ asks
//   JavaScript to (re)run the pipeline through functions on window.facekeysApp
//   (wasm/app_glue.js) and never blocks on them.
// - Render on demand: the browser calls frame() on every animation frame, and
//   drawing the whole UI each time keeps the main thread busy (tens of ms a
//   frame in software WebGL), which delays every await of the JS pipeline and
//   drains batteries. frame() draws only for a while after user input (seen by
//   web_take_input(), below) or after the app's state changed (redraw() in
//   main.cpp); otherwise the canvas keeps showing the last frame.
// - Video frames are not drawn as a WebGL texture: the page shows the frame in
//   a 2D canvas under the ImGui canvas (#video-layer in index.html, filled by
//   app_glue.js's showVideoPixels, placed by overlay_view.cpp), which clears to
//   transparent in video mode. Under software WebGL (no GPU: SwiftShader in a
//   VM or headless Chromium) magnifying a 640x480 frame to the view cost the
//   GPU process about 11 ms a frame, a sixth of the page's CPU per tracked
//   frame; the browser's compositor scales the 2D canvas for much less. The
//   frame's overlay is drawn on its pixels by the core's rasteriser before
//   they go there (js_api.cpp, fk_video_layer_draw), not by ImGui: every WebGL
//   frame of the canvas costs the main thread a wait for the GPU process (the
//   OpenGL backend's glGetIntegerv state queries are synchronous in WebGL, and
//   a software compositor reads the canvas back), so a tracked frame redraws
//   no WebGL and the panel's video figures are redrawn at most 4 times a
//   second (docs/WEB.md, "Live video").
// - The mouse wheel: Emscripten 3.1's GLFW hands the scroll callback the DOM
//   event's raw deltaX/deltaY (pixels, lines or pages, positive = down/right),
//   where GLFW and ImGui count steps (one notch = 1, positive = up/left): one
//   notch of a mouse (100 pixels in Chromium) zoomed the view 1.15^100 times.
//   main.cpp's scroll callback converts them (web_wheel_steps(), below).
// - Functions JavaScript calls are exported with FK_EXPORT (wasm/js_api.cpp);
//   -sEXPORTED_FUNCTIONS (wasm/CMakeLists.txt) need not list them.
// - The page does not need cross-origin isolation for this module (it is built
//   without threads); only ONNX Runtime's threads need it.
#pragma once

#include <emscripten.h>
#include <emscripten/html5.h>

// A function JavaScript calls on the module (Module._name).
#define FK_EXPORT EMSCRIPTEN_KEEPALIVE

// The JavaScript functions below are defined (EM_JS) in the one file that
// defines FACEKEYS_PLATFORM_WEB_IMPL before including this header (main.cpp)
// and declared everywhere else: an EM_JS definition in two objects is a
// duplicate symbol for the linker.
#ifdef FACEKEYS_PLATFORM_WEB_IMPL
#define FK_WEB_JS(ret, name, params, ...) EM_JS(ret, name, params, __VA_ARGS__)
#else
#define FK_WEB_JS(ret, name, params, ...) extern "C" ret name params EM_IMPORT(name);
#endif

namespace facekeys_web {

// The browser's clock (performance.now()), in milliseconds.
inline double web_now_ms() { return emscripten_get_now(); }

// Registers the per-frame callback and returns (see above).
inline void web_run_main_loop(void (*frame)(void*)) { emscripten_set_main_loop_arg(frame, nullptr, 0, 0); }

// Tells the page the module is ready, or why it cannot start.
FK_WEB_JS(void, web_notify_ready, (), {
  if (window.facekeysApp && window.facekeysApp.onReady) window.facekeysApp.onReady();
});
FK_WEB_JS(void, web_fatal, (const char* message), {
  if (window.facekeysApp && window.facekeysApp.fatal) window.facekeysApp.fatal(UTF8ToString(message));
});

// CSS size of the canvas in CSS pixels and the device pixel ratio.
FK_WEB_JS(double, web_canvas_css_width, (), { return Module.canvas ? Module.canvas.clientWidth : 800; });
FK_WEB_JS(double, web_canvas_css_height, (), { return Module.canvas ? Module.canvas.clientHeight : 600; });
FK_WEB_JS(double, web_device_pixel_ratio, (), { return window.devicePixelRatio || 1; });

// Input seen since the last call (pointer, wheel, keys, focus, resize, paste,
// drop anywhere in the page). The listeners are installed on first use and only
// set a flag: GLFW's own handlers still deliver the events to ImGui.
FK_WEB_JS(int, web_take_input, (), {
  if (!Module.fkInput) {
    Module.fkInput = { seen: true };
    const mark = () => { Module.fkInput.seen = true; };
    // The wheel's unit, for web_wheel_steps (this listener runs before GLFW's, on the canvas)
    window.addEventListener('wheel', (e) => { Module.fkWheelMode = e.deltaMode; }, { capture: true, passive: true });
    for (const t of ['pointerdown', 'pointermove', 'pointerup', 'wheel', 'keydown', 'keyup', 'touchstart', 'touchmove',
                     'touchend', 'focus', 'blur', 'resize', 'paste', 'drop', 'dragover'])
      window.addEventListener(t, mark, { capture: true, passive: true });
  }
  const seen = Module.fkInput.seen;
  Module.fkInput.seen = false;
  return seen ? 1 : 0;
});

// A DOM wheel delta (of the event GLFW is handling) in GLFW's steps: 100
// pixels, 3 lines or a page a step, the sign turned (see above).
FK_WEB_JS(double, web_wheel_steps, (double dom_delta), {
  const mode = Module.fkWheelMode || 0;
  return -dom_delta / (mode === 0 ? 100 : mode === 1 ? 3 : 1);
});

// Calls window.facekeysApp[name](arg...) if the glue is present; never throws into C++.
FK_WEB_JS(void, web_call0, (const char* name), {
  const f = window.facekeysApp && window.facekeysApp[UTF8ToString(name)];
  if (f) { try { f(); } catch (e) { console.error(e); } }
});
FK_WEB_JS(void, web_call1, (const char* name, double a), {
  const f = window.facekeysApp && window.facekeysApp[UTF8ToString(name)];
  if (f) { try { f(a); } catch (e) { console.error(e); } }
});
FK_WEB_JS(void, web_call4, (const char* name, double a, double b, double c, double d), {
  const f = window.facekeysApp && window.facekeysApp[UTF8ToString(name)];
  if (f) { try { f(a, b, c, d); } catch (e) { console.error(e); } }
});

}  // namespace facekeys_web
