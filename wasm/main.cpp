// facekeys in the browser: a Dear ImGui (GLFW + WebGL2) app over the shared
// core. JavaScript (wasm/app_glue.js) decodes photos and runs the networks with
// ONNX Runtime Web; everything else is the core's photo job (photo_job.hpp),
// driven through wasm/js_api.cpp, and the overlay's primitives (overlay.hpp).
// The parts are listed in wasm/app.hpp; the Emscripten quirks live in
// wasm/platform_web.hpp.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app.hpp"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"
#define FACEKEYS_PLATFORM_WEB_IMPL  // the EM_JS functions are defined here
#include "platform_web.hpp"

namespace facekeys_app {

App g;

// Render on demand (platform_web.hpp). A change of state draws one frame (the
// panel has a fixed width and ImGui draws the state of the frame it is in);
// input keeps drawing for half a second, long enough for ImGui's hover,
// tooltips and double clicks to settle. While the pipeline runs nothing is
// drawn for its first kBusyQuietMs: a short run shows just its result (no
// "working..." flash) and does not share the CPU with frames it would hide.
constexpr int kFramesPerChange = 1;
constexpr double kDrawAfterInputMs = 500;
constexpr double kBusyQuietMs = 200;

void redraw() { g.frames_to_draw = std::max(g.frames_to_draw, kFramesPerChange); }
void overlay_changed() {
  g.overlay_stale = true;
  if (g.video_mode()) facekeys_web::web_call0("redrawVideoLayer");  // the overlay is drawn there
  redraw();
}

const Model* model_at(int i) { return (i >= 0 && i < static_cast<int>(g.models.size())) ? &g.models[i] : nullptr; }
int photo_width() { return g.video_mode() ? g.video.frame_w : g.job ? g.job->width() : 0; }
int photo_height() { return g.video_mode() ? g.video.frame_h : g.job ? g.job->height() : 0; }

void fit_view() {
  int cw = 0, ch = 0;
  glfwGetFramebufferSize(g.window, &cw, &ch);
  const int W = photo_width(), H = photo_height();
  if (W <= 0 || cw <= 0) return;
  // The photo right of the panel, or below it where that shows it larger (a
  // tall, narrow canvas: a phone held upright; a collapsed panel), centred in
  // the area. The panel's place and size are those it was last drawn with.
  struct Area {
    float x, y, w, h;
  };
  const float m = 10.f * g.ui_scale;  // margin
  const float panel_right = g.panel_pos.x + g.panel_size.x, panel_bottom = g.panel_pos.y + g.panel_size.y;
  const Area right{panel_right + 2 * m, m, cw - panel_right - 3 * m, ch - 2 * m};
  const Area below{m, panel_bottom + m, cw - 2 * m, ch - panel_bottom - 2 * m};
  const auto scale_in = [&](const Area& a) { return std::min(std::max(a.w, 1.f) / W, std::max(a.h, 1.f) / H); };
  const Area& a = scale_in(below) > scale_in(right) ? below : right;
  g.view_scale = scale_in(a);
  g.view_x = a.x + (a.w - W * g.view_scale) * 0.5f;
  g.view_y = a.y + (a.h - H * g.view_scale) * 0.5f;
}

void set_error(const std::string& message) {
  g.error = message;
  g.status = message;
  g.status_error = true;
}

namespace {

// ImGui's font and sizes for a devicePixelRatio of `s` (a phone's 2-3, a
// browser zoomed): the canvas has s device pixels a CSS pixel, and ImGui draws
// in device pixels. The font is ImGui's own, rasterised at 13*s pixels.
void set_ui_scale(float s) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  ImFontConfig font;
  font.SizePixels = std::round(13.f * s);
  io.Fonts->AddFontDefault(&font);
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  ImGui_ImplOpenGL3_CreateFontsTexture();
  ImGuiStyle style;
  ImGui::StyleColorsDark(&style);
  style.ScaleAllSizes(s);
  ImGui::GetStyle() = style;
  g.ui_scale = s;
}

void frame(void*) {
  // Follow the canvas' CSS size (platform_web.hpp).
  const double dpr = facekeys_web::web_device_pixel_ratio();
  const int want_w = static_cast<int>(facekeys_web::web_canvas_css_width() * dpr);
  const int want_h = static_cast<int>(facekeys_web::web_canvas_css_height() * dpr);
  int cur_w = 0, cur_h = 0;
  glfwGetWindowSize(g.window, &cur_w, &cur_h);
  if (want_w > 0 && want_h > 0 && (want_w != cur_w || want_h != cur_h)) {
    glfwSetWindowSize(g.window, want_w, want_h);
    g.fit_pending = true;  // a resized window (a phone turned) shows the whole photo again
    redraw();
  }
  if (static_cast<float>(dpr) != g.ui_scale) {  // zoomed, or moved to another screen
    set_ui_scale(static_cast<float>(dpr));
    g.fit_pending = true;
    redraw();
  }
  const double now = facekeys_web::web_now_ms();
  if (facekeys_web::web_take_input()) g.draw_until_ms = now + kDrawAfterInputMs;
  if (g.busy && now - g.busy_since_ms < kBusyQuietMs) return;   // input waits in ImGui's queue
  if (g.frames_to_draw == 0 && now > g.draw_until_ms) return;  // nothing changed: the canvas keeps its frame
  if (g.frames_to_draw > 0) --g.frames_to_draw;
  if (g.fit_pending) {
    fit_view();
    g.fit_pending = false;
  }

  glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  handle_view_input();
  draw_photo_and_overlay();
  draw_panel();
  ImGui::Render();
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(g.window, &fw, &fh);
  glViewport(0, 0, fw, fh);
  if (g.video_mode())
    glClearColor(0.f, 0.f, 0.f, 0.f);  // the video layer shows through (platform_web.hpp)
  else
    glClearColor(0.12f, 0.12f, 0.14f, 1.f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace
}  // namespace facekeys_app

int main() {
  using facekeys_app::g;
  if (!glfwInit()) {
    std::fprintf(stderr, "facekeys: glfwInit failed\n");
    return 1;
  }
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  const int w = static_cast<int>(facekeys_web::web_canvas_css_width() * facekeys_web::web_device_pixel_ratio());
  const int h = static_cast<int>(facekeys_web::web_canvas_css_height() * facekeys_web::web_device_pixel_ratio());
  g.window = glfwCreateWindow(std::max(w, 64), std::max(h, 64), "facekeys", nullptr, nullptr);
  if (!g.window) {
    std::fprintf(stderr, "facekeys: no WebGL2 context\n");
    facekeys_web::web_fatal("This browser has no WebGL2.");
    return 1;
  }
  glfwMakeContextCurrent(g.window);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // no file system (platform_web.hpp)
  ImGui_ImplGlfw_InitForOpenGL(g.window, true);
  glfwSetScrollCallback(g.window, [](GLFWwindow* w, double dx, double dy) {  // in steps (platform_web.hpp)
    ImGui_ImplGlfw_ScrollCallback(w, facekeys_web::web_wheel_steps(dx), facekeys_web::web_wheel_steps(dy));
  });
  ImGui_ImplOpenGL3_Init("#version 300 es");
  ImGui_ImplOpenGL3_CreateDeviceObjects();  // now, so that set_ui_scale's font texture is the one kept
  facekeys_app::set_ui_scale(static_cast<float>(facekeys_web::web_device_pixel_ratio()));  // and the style
  facekeys_web::web_run_main_loop(facekeys_app::frame);
  facekeys_web::web_notify_ready();
  return 0;
}
