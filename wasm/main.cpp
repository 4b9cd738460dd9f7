// facekeys in the browser: a Dear ImGui (GLFW + WebGL2) app that owns the
// photo, the pre- and post-processing and the overlay. The networks run in
// JavaScript with ONNX Runtime Web (wasm/app_glue.js); the two sides talk
// through the fk_* functions below (called from JS on the module) and
// window.facekeysApp.* (called from C++, platform_web.hpp).
//
// Every convention comes from the shared core, exactly as in `facekeys predict`:
//   detector input / decoding / NMS   facekeys/face_detect.hpp
//   crop, model input, output->points facekeys/keypoint_pipeline.hpp
//   point names and polylines         facekeys/schema.hpp
//   model cards                       facekeys/model_card.hpp
//
// Pipeline for one photo (JS drives it, each step is one call here):
//   fk_photo_alloc(w, h) -> JS writes RGBA -> fk_photo_commit(orig_w, orig_h, turns, mirror, name)
//   fk_detect_input() -> JS runs UltraFace -> fk_detect_decode(n, threshold)
//   per face: fk_keypoint_input(model, i) -> JS runs the model -> fk_keypoint_output(model, i, n)
//   fk_result_json(model) -> the JSON of `facekeys predict`.
// The photo held here may be a downscaled copy of the original (huge photos);
// everything reported (boxes, points) is in original-image pixels.
#include <GLES3/gl3.h>
#include <GLFW/glfw3.h>
#include <emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "facekeys/crop.hpp"
#include "facekeys/face_detect.hpp"
#include "facekeys/heatmap.hpp"
#include "facekeys/image.hpp"
#include "facekeys/image_header.hpp"
#include "facekeys/jpeg_scan.hpp"
#include "facekeys/json.hpp"
#include "facekeys/keypoint_pipeline.hpp"
#include "facekeys/metrics.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/model_check.hpp"
#include "facekeys/predict_result.hpp"
#include "facekeys/schema.hpp"
#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"
#include "platform_web.hpp"

using namespace facekeys;

namespace {

struct Model {
  std::string id;  // folder name under models/
  ModelCard card;
};

struct Face {
  Box box;  // in pixels of the held (work) image
  float score = 0.f;
  bool manual = false;
  Box crop;                     // crop box used by the last keypoint run (work pixels)
  std::vector<Point2f> points;  // original-image pixels, empty until predicted
  GLuint heat_tex = 0;          // heatmap models: the maps' peak-relative softmax, as a texture
};

struct App {
  GLFWwindow* window = nullptr;
  std::vector<Model> models;
  int model = -1;  // selected
  // photo
  ImageU8 rgba;  // the held image (RGBA), possibly downscaled from the original
  ImageU8 gray;  // its BT.601 gray version, made on first use (keypoint crops)
  int orig_w = 0, orig_h = 0;
  std::string name;
  GLuint tex = 0;
  int tex_w = 0, tex_h = 0;
  std::vector<Face> faces;
  int faces_model = -1;  // model the points belong to
  // buffers shared with JS
  std::vector<float> tensor;   // last input tensor handed to JS
  std::vector<float> scratch;  // JS writes model outputs here
  std::string json, error;
  // UI state
  float point_size = 3.f;
  bool lines = true, boxes = true, names = true, overlay = true, heatmap = false;
  float threshold = 0.7f;
  float view_scale = 1.f, view_x = 0.f, view_y = 0.f;  // screen = view + (orig + 0.5) * scale
  bool draw_box_mode = false, dragging_box = false;
  ImVec2 drag_start{0, 0};
  std::string status = "Drop, paste or pick photos (JPEG, PNG, WebP).";
  bool status_error = false;
  double t_decode = 0, t_detect = 0, t_pre = 0, t_infer = 0, t_total = 0;
  int photo_index = -1, photo_count = 0;
  bool busy = false;
  // render on demand (platform_web.hpp)
  int frames_to_draw = 0;    // after a change of state
  double draw_until_ms = 0;  // after user input
  double busy_since_ms = 0;
  bool fit_pending = false;
  ImVec2 panel_pos{0, 0}, panel_size{0, 0};  // where the panel covers the photo
  float panel_content_h = 0;                 // the height its contents took in the last frame
};
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
// A UI setting changed from JS.
template <class T, class V>
void set_and_redraw(T& setting, V value) {
  setting = static_cast<T>(value);
  redraw();
}

float sx() { return g.rgba.empty() ? 1.f : static_cast<float>(g.orig_w) / g.rgba.width(); }
float sy() { return g.rgba.empty() ? 1.f : static_cast<float>(g.orig_h) / g.rgba.height(); }
// work pixels <-> original pixels (pixel centres at integers: scale the extent)
Point2f work_to_orig(Point2f p) { return {(p.x + 0.5f) * sx() - 0.5f, (p.y + 0.5f) * sy() - 0.5f}; }
Box box_to_orig(const Box& b) { return {(b.x + 0.5f) * sx() - 0.5f, (b.y + 0.5f) * sy() - 0.5f, b.w * sx(), b.h * sy()}; }
Box box_to_work(const Box& b) { return {(b.x + 0.5f) / sx() - 0.5f, (b.y + 0.5f) / sy() - 0.5f, b.w / sx(), b.h / sy()}; }

ImVec2 to_screen(Point2f p) {
  return ImVec2(g.view_x + (p.x + 0.5f) * g.view_scale, g.view_y + (p.y + 0.5f) * g.view_scale);
}
Point2f from_screen(ImVec2 s) {
  return {(s.x - g.view_x) / g.view_scale - 0.5f, (s.y - g.view_y) / g.view_scale - 0.5f};
}

void free_face_textures() {
  for (Face& f : g.faces)
    if (f.heat_tex) glDeleteTextures(1, &f.heat_tex);
}

GLuint upload_rgba(const std::uint8_t* data, int w, int h, bool smooth) {
  GLuint t = 0;
  glGenTextures(1, &t);
  glBindTexture(GL_TEXTURE_2D, t);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, smooth ? GL_LINEAR : GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, smooth ? GL_LINEAR : GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, data);
  return t;
}

void fit_view() {
  int cw = 0, ch = 0;
  glfwGetFramebufferSize(g.window, &cw, &ch);
  if (g.orig_w <= 0 || cw <= 0) return;
  const float panel = 300.f;  // keep the photo right of the panel when there is room
  const float aw = std::max(100.f, cw - panel - 20.f), ah = std::max(100.f, ch - 20.f);
  g.view_scale = std::min(aw / g.orig_w, ah / g.orig_h);
  g.view_x = panel + 10.f + (aw - g.orig_w * g.view_scale) * 0.5f;
  g.view_y = 10.f + (ah - g.orig_h * g.view_scale) * 0.5f;
}

void set_error(const std::string& msg) {
  g.error = msg;
  g.status = msg;
  g.status_error = true;
}

// Shown under the model picker for whole-image (IMM) models, which were trained
// on 240 studio portraits and see the whole photo as one face.
constexpr const char* kWholeImageNote =
    "This model expects a frontal studio portrait filling the frame (one face, head and shoulders). "
    "For other photos pick a 68-point (ibug68) model.";

const Model* model_at(int i) { return (i >= 0 && i < static_cast<int>(g.models.size())) ? &g.models[i] : nullptr; }

// ---- overlay -------------------------------------------------------------

void draw_overlay() {
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  if (g.tex == 0) return;
  dl->AddImage(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(g.tex)), to_screen({-0.5f, -0.5f}),
               to_screen({g.orig_w - 0.5f, g.orig_h - 0.5f}));
  if (!g.overlay) return;
  const Model* m = model_at(g.faces_model);
  const LandmarkSchema* schema = nullptr;
  if (m) {
    try {
      schema = &schema_by_name(m->card.schema);
    } catch (const std::exception&) {
    }
  }
  const ImU32 c_box = IM_COL32(255, 200, 0, 255), c_manual = IM_COL32(0, 200, 255, 255);
  const ImU32 c_pt = IM_COL32(0, 255, 80, 255), c_line = IM_COL32(255, 60, 60, 220);
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  float best_d = std::max(6.f, g.point_size + 3.f);
  int best_face = -1, best_pt = -1;
  for (std::size_t fi = 0; fi < g.faces.size(); ++fi) {
    const Face& f = g.faces[fi];
    if (g.heatmap && f.heat_tex) {
      const Box c = box_to_orig(f.crop);
      dl->AddImage(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(f.heat_tex)), to_screen({c.x, c.y}),
                   to_screen({c.x + c.w, c.y + c.h}), ImVec2(0, 0), ImVec2(1, 1), IM_COL32(255, 255, 255, 170));
    }
    if (g.boxes) {
      const Box b = box_to_orig(f.box);
      dl->AddRect(to_screen({b.x, b.y}), to_screen({b.x + b.w, b.y + b.h}), f.manual ? c_manual : c_box, 0.f, 0,
                  2.f);
      if (!f.manual) {
        char s[32];
        std::snprintf(s, sizeof s, "%.2f", f.score);
        dl->AddText(to_screen({b.x, b.y}), c_box, s);
      }
    }
    if (f.points.empty()) continue;
    if (g.lines && schema) {
      for (const auto& pl : schema->polylines) {
        std::vector<ImVec2> pts;
        for (int i : pl.indices)  // through the decoded points only, as `facekeys predict --overlay`
          if (i >= 0 && i < static_cast<int>(f.points.size()) && std::isfinite(f.points[i].x) &&
              std::isfinite(f.points[i].y))
            pts.push_back(to_screen(f.points[i]));
        if (pts.size() >= 2)
          dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), c_line, pl.closed ? ImDrawFlags_Closed : 0,
                          1.5f);
      }
    }
    for (std::size_t k = 0; k < f.points.size(); ++k) {
      const ImVec2 s = to_screen(f.points[k]);
      if (!std::isfinite(s.x) || !std::isfinite(s.y)) continue;
      dl->AddCircleFilled(s, g.point_size, c_pt);
      const float d = std::hypot(s.x - mouse.x, s.y - mouse.y);
      if (d < best_d) {
        best_d = d;
        best_face = static_cast<int>(fi);
        best_pt = static_cast<int>(k);
      }
    }
  }
  if (best_pt >= 0 && g.names && !ImGui::GetIO().WantCaptureMouse) {
    const Point2f p = g.faces[best_face].points[best_pt];
    std::string nm = (schema && best_pt < static_cast<int>(schema->point_names.size())) ? schema->point_names[best_pt]
                                                                                        : std::string("point");
    ImGui::BeginTooltip();
    ImGui::Text("face %d, point %d: %s", best_face, best_pt, nm.c_str());
    ImGui::Text("x %.1f  y %.1f", p.x, p.y);
    ImGui::EndTooltip();
  }
  if (g.dragging_box) {
    dl->AddRect(g.drag_start, mouse, c_manual, 0.f, 0, 2.f);
  }
}

// Zoom (wheel, about the cursor), pan (drag), draw a face box (box mode or shift-drag).
void handle_view_input() {
  ImGuiIO& io = ImGui::GetIO();
  if (g.tex == 0) return;
  if (!io.WantCaptureMouse) {
    if (io.MouseWheel != 0.f) {
      const Point2f p = from_screen(io.MousePos);
      const float f = std::pow(1.15f, io.MouseWheel);
      g.view_scale = std::clamp(g.view_scale * f, 1e-3f, 64.f);
      g.view_x = io.MousePos.x - (p.x + 0.5f) * g.view_scale;
      g.view_y = io.MousePos.y - (p.y + 0.5f) * g.view_scale;
    }
    if (ImGui::IsMouseClicked(0)) {
      if (g.draw_box_mode || io.KeyShift) {
        g.dragging_box = true;
        g.drag_start = io.MousePos;
      }
    }
    if (ImGui::IsMouseDragging(0) && !g.dragging_box) {
      g.view_x += io.MouseDelta.x;
      g.view_y += io.MouseDelta.y;
    }
    if (ImGui::IsMouseDragging(1) || ImGui::IsMouseDragging(2)) {
      g.view_x += io.MouseDelta.x;
      g.view_y += io.MouseDelta.y;
    }
  }
  if (g.dragging_box && ImGui::IsMouseReleased(0)) {
    g.dragging_box = false;
    const Point2f a = from_screen(g.drag_start), b = from_screen(io.MousePos);
    const float x0 = std::max(-0.5f, std::min(a.x, b.x)), y0 = std::max(-0.5f, std::min(a.y, b.y));
    const float x1 = std::min(g.orig_w - 0.5f, std::max(a.x, b.x)), y1 = std::min(g.orig_h - 0.5f, std::max(a.y, b.y));
    if (x1 - x0 >= 4.f && y1 - y0 >= 4.f) {
      g.draw_box_mode = false;
      facekeys_web::web_call4("manualBox", x0, y0, x1 - x0, y1 - y0);  // original pixels
    }
  }
}

void draw_panel() {
  ImGui::SetNextWindowPos(ImVec2(10, 10), ImGuiCond_FirstUseEver);
  // 280 px wide; height 0: fitted to the contents every frame (the IMM note, the heatmap box and
  // the status come and go: a fixed height would hide the timings and the status behind a scroll bar).
  ImGui::SetNextWindowSize(ImVec2(280, 0), ImGuiCond_Always);
  ImGui::Begin("facekeys");
  g.panel_pos = ImGui::GetWindowPos();
  g.panel_size = ImGui::GetWindowSize();
  if (ImGui::Button("Open photos...")) facekeys_web::web_call0("openFilePicker");
  if (g.photo_count > 1) {
    ImGui::SameLine();
    if (ImGui::ArrowButton("##prev", ImGuiDir_Left)) facekeys_web::web_call1("selectPhoto", g.photo_index - 1);
    ImGui::SameLine();
    if (ImGui::ArrowButton("##next", ImGuiDir_Right)) facekeys_web::web_call1("selectPhoto", g.photo_index + 1);
    ImGui::SameLine();
    ImGui::Text("%d / %d", g.photo_index + 1, g.photo_count);
  }
  if (!g.name.empty()) ImGui::TextWrapped("%s  (%d x %d)", g.name.c_str(), g.orig_w, g.orig_h);

  // model
  const Model* cur = model_at(g.model);
  if (ImGui::BeginCombo("model", cur ? cur->id.c_str() : "(none)")) {
    for (int i = 0; i < static_cast<int>(g.models.size()); ++i) {
      const bool sel = i == g.model;
      if (ImGui::Selectable(g.models[i].id.c_str(), sel) && !sel) {
        g.model = i;
        facekeys_web::web_call1("selectModel", i);
      }
      if (ImGui::IsItemHovered()) {
        const ModelCard& c = g.models[i].card;
        ImGui::SetTooltip("%s: %s, %d points, input %dx%d, %s", c.arch.c_str(), c.schema.c_str(), c.num_points,
                          c.input.width, c.input.height, c.crop.source.c_str());
      }
    }
    ImGui::EndCombo();
  }
  if (cur && card_is_whole_image(cur->card)) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.f, 0.8f, 0.35f, 1.f));
    ImGui::TextWrapped("%s", kWholeImageNote);
    ImGui::PopStyleColor();
  }
  ImGui::SliderFloat("threshold", &g.threshold, 0.05f, 0.99f, "%.2f");
  if (ImGui::IsItemDeactivatedAfterEdit()) facekeys_web::web_call0("rerunDetection");
  ImGui::SliderFloat("point size", &g.point_size, 0.5f, 12.f, "%.1f");
  ImGui::Checkbox("lines", &g.lines);
  ImGui::SameLine();
  ImGui::Checkbox("boxes", &g.boxes);
  ImGui::SameLine();
  ImGui::Checkbox("names", &g.names);
  ImGui::Checkbox("overlay", &g.overlay);
  if (cur && cur->card.output.kind == "heatmaps") {
    ImGui::SameLine();
    ImGui::Checkbox("heatmap", &g.heatmap);
  }
  if (ImGui::Button(g.draw_box_mode ? "Drag a box on the photo..." : "Draw face box")) g.draw_box_mode = !g.draw_box_mode;
  ImGui::SameLine();
  if (ImGui::Button("Fit")) fit_view();
  if (ImGui::Button("Export JSON")) facekeys_web::web_call0("exportJson");
  ImGui::SameLine();
  if (ImGui::Button("Export PNG")) facekeys_web::web_call0("exportPng");

  ImGui::Separator();
  ImGui::Text("faces: %d", static_cast<int>(g.faces.size()));
  ImGui::Text("decode     %7.1f ms", g.t_decode);
  ImGui::Text("detect     %7.1f ms", g.t_detect);
  ImGui::Text("preprocess %7.1f ms", g.t_pre);
  ImGui::Text("infer      %7.1f ms", g.t_infer);
  ImGui::Text("total      %7.1f ms", g.t_total);
  ImGui::Separator();
  if (g.busy) ImGui::TextColored(ImVec4(1, 1, 0.4f, 1), "working...");
  if (g.status_error)
    ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "%s", g.status.c_str());
  else
    ImGui::TextWrapped("%s", g.status.c_str());
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped("wheel: zoom, drag: pan, shift-drag: face box");
  ImGui::PopStyleColor();
  // The height is fitted to the previous frame's contents: draw once more when they changed.
  const float content_h = ImGui::GetCursorPosY();
  if (content_h != g.panel_content_h) redraw();
  g.panel_content_h = content_h;
  ImGui::End();
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
    redraw();
  }
  const double now = emscripten_get_now();
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
  draw_overlay();
  draw_panel();
  ImGui::Render();
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(g.window, &fw, &fh);
  glViewport(0, 0, fw, fh);
  glClearColor(0.12f, 0.12f, 0.14f, 1.f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

template <class F>
int guarded(const char* what, F&& f) {
  try {
    g.error.clear();
    return f();
  } catch (const std::exception& e) {
    set_error(std::string(what) + ": " + e.what());
  } catch (...) {
    set_error(std::string(what) + ": unknown error");
  }
  return -1;
}

}  // namespace

// ---- the interface JavaScript calls (wasm/app_glue.js) ---------------------
extern "C" {

EMSCRIPTEN_KEEPALIVE const char* fk_last_error() { return g.error.c_str(); }

// Registers a model from its card text; returns its index, -1 on a bad card.
EMSCRIPTEN_KEEPALIVE int fk_add_model(const char* id, const char* card_json) {
  return guarded("model card", [&] {
    Model m;
    m.id = id;
    m.card = model_card_from_json(Json::parse(card_json, std::string(id) + "/model.json"), std::string(id));
    g.models.push_back(std::move(m));
    if (g.model < 0) g.model = 0;
    redraw();
    return static_cast<int>(g.models.size()) - 1;
  });
}
// The default model among those registered: `named` is the name from
// models/index.json (the DEFAULT file's), the rule is the core's
// default_model_name, as `facekeys predict`'s. Returns its index, -1 when none.
EMSCRIPTEN_KEEPALIVE int fk_default_model(const char* named) {
  std::vector<std::string> ids;
  for (const Model& m : g.models) ids.push_back(m.id);
  const std::string id = default_model_name(named ? named : "", ids);
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == id) return static_cast<int>(i);
  return -1;
}
// NME of one face, the core's nme_per_image (what `facekeys eval` and the native
// tests report): `pred` and `truth` hold n_points (x, y) pairs in pixels, the
// distance of the schema's outer eye corners normalises. -1 with the message in
// fk_last_error() on bad input (unknown schema, wrong count, zero eye distance).
EMSCRIPTEN_KEEPALIVE double fk_nme(const float* pred, const float* truth, int n_points, const char* schema_name) {
  double nme = -1;
  guarded("nme", [&] {
    const LandmarkSchema& s = schema_by_name(schema_name ? schema_name : "");
    if (n_points != s.num_points || s.left_eye_outer < 0)
      throw std::invalid_argument(std::to_string(n_points) + " points for schema " + s.name + " (" +
                                  std::to_string(s.num_points) + " points, NME needs its eye corners)");
    const std::size_t n = static_cast<std::size_t>(n_points);
    nme = nme_per_image(std::vector<float>(pred, pred + 2 * n), std::vector<float>(truth, truth + 2 * n), 1, n,
                        static_cast<std::size_t>(s.left_eye_outer), static_cast<std::size_t>(s.right_eye_outer))[0];
    return 0;
  });
  return nme;
}
EMSCRIPTEN_KEEPALIVE void fk_select_model(int i) {
  if (model_at(i)) g.model = i;
  redraw();
}
EMSCRIPTEN_KEEPALIVE int fk_selected_model() { return g.model; }
EMSCRIPTEN_KEEPALIVE int fk_model_input_width(int i) { return model_at(i) ? model_at(i)->card.input.width : 0; }
EMSCRIPTEN_KEEPALIVE int fk_model_input_height(int i) { return model_at(i) ? model_at(i)->card.input.height : 0; }
EMSCRIPTEN_KEEPALIVE int fk_model_output_size(int i) {
  return model_at(i) ? static_cast<int>(keypoint_output_size(model_at(i)->card)) : 0;
}
// The graph's input and output names (the card's onnx section, with its defaults).
EMSCRIPTEN_KEEPALIVE const char* fk_model_input_name(int i) { return model_at(i) ? model_at(i)->card.onnx.input_name.c_str() : ""; }
EMSCRIPTEN_KEEPALIVE const char* fk_model_output_name(int i) { return model_at(i) ? model_at(i)->card.onnx.output_name.c_str() : ""; }
// Checks the bytes of model i's ONNX file (n bytes at `data`, fetched from
// `url`) before ONNX Runtime sees them, as `facekeys predict` does before
// OpenCV (check_keypoint_model_file: the card's SHA-256, names, shapes, opset,
// weight sizes): 0 when it passes, -1 with fk_last_error() ("<url>: ...") saying why not.
EMSCRIPTEN_KEEPALIVE int fk_model_check_onnx(int i, const std::uint8_t* data, int n, const char* url) {
  const Model* m = model_at(i);
  if (!m || n < 0) {
    set_error("fk_model_check_onnx: no such model");
    return -1;
  }
  try {
    check_keypoint_model_file(m->card, data, static_cast<std::size_t>(n), url ? url : m->id + "/model.onnx");
  } catch (const std::exception& e) {
    set_error(e.what());
    return -1;
  }
  g.error.clear();
  return 0;
}
// The same for the face detector's file (check_face_detector_file).
EMSCRIPTEN_KEEPALIVE int fk_detector_check_onnx(const std::uint8_t* data, int n, const char* url) {
  try {
    if (n < 0) throw std::invalid_argument("fk_detector_check_onnx: bad size");
    check_face_detector_file(data, static_cast<std::size_t>(n), url ? url : "detector");
  } catch (const std::exception& e) {
    set_error(e.what());
    return -1;
  }
  g.error.clear();
  return 0;
}
EMSCRIPTEN_KEEPALIVE int fk_model_whole_image(int i) { return model_at(i) && card_is_whole_image(model_at(i)->card); }

// The schema of model i (names and polylines) as JSON, for the PNG export.
EMSCRIPTEN_KEEPALIVE const char* fk_model_schema_json(int i) {
  g.json.clear();
  guarded("schema", [&] {
    const Model* m = model_at(i);
    if (!m) throw std::invalid_argument("no such model");
    const LandmarkSchema& s = schema_by_name(m->card.schema);
    Json j = Json::object();
    j["name"] = s.name;
    Json names = Json::array();
    for (const auto& n : s.point_names) names.push_back(n);
    j["point_names"] = names;
    Json pls = Json::array();
    for (const auto& pl : s.polylines) {
      Json o = Json::object();
      Json idx = Json::array();
      for (int k : pl.indices) idx.push_back(k);
      o["indices"] = idx;
      o["closed"] = pl.closed;
      pls.push_back(o);
    }
    j["polylines"] = pls;
    g.json = j.dump();
    return 0;
  });
  return g.json.c_str();
}

// Checks a photo file before it is decoded, as `facekeys predict` does
// (read_image_header in image_header.hpp), from its first bytes `head` (up to
// fk_image_header_bytes()) and last bytes `tail` (up to fk_image_tail_bytes()).
// Writes the format (ImageFormat), the stored width and height (0 when the
// header does not say) and, for model `model` (-1: detection only), the JPEG
// DCT decode divisor (1, 2, 4, 8) to out[0..3]. Returns 1 when a JPEG's end
// was not found from this head (data after it, as in a phone's motion photo):
// call again with the whole file as `head`. Returns -1 with the message in
// fk_last_error() ("<name>: ...") for a file that is not a JPEG, PNG or WebP,
// not whole, 0x0 or over kMaxImagePixels.
EMSCRIPTEN_KEEPALIVE int fk_image_check(const char* name, const std::uint8_t* head, int n_head, const std::uint8_t* tail,
                                        int n_tail, double file_size, int model, int* out) {
  return guarded(name ? name : "photo", [&] {
    if (!out || n_head < 0 || n_tail < 0 || !(file_size >= 0)) throw std::invalid_argument("bad arguments");
    const ImageHeader h = read_image_header(head, static_cast<std::size_t>(n_head), tail,
                                            static_cast<std::size_t>(n_tail), static_cast<unsigned long long>(file_size));
    if (h.format == ImageFormat::Unknown) throw std::invalid_argument("not a JPEG, PNG or WebP image");
    if (h.needs_whole_file) return 1;
    if (!h.complete) throw std::invalid_argument(truncated_image_message(h.format));
    // A size the header states is within 1..kMaxImagePixels from here on, so it fits an int.
    const bool sized = h.size.has_value();
    if (sized) {
      const std::string problem = image_size_problem(h.size->width, h.size->height);
      if (!problem.empty()) throw std::invalid_argument(problem);
    }
    out[0] = static_cast<int>(h.format);
    out[1] = sized ? static_cast<int>(h.size->width) : 0;
    out[2] = sized ? static_cast<int>(h.size->height) : 0;
    const Model* m = model_at(model);
    out[3] = sized && h.format == ImageFormat::Jpeg
                 ? jpeg_decode_divisor(h.size->width, h.size->height, keypoint_min_work_pixels(m ? &m->card : nullptr))
                 : 1;
    return 0;
  });
}
// Checks a whole JPEG file's compressed data (jpeg_scan.hpp), as `facekeys
// predict` does with libjpeg: the browser draws a JPEG with a damaged scan
// without an error. 0 when it decodes cleanly, -1 with fk_last_error()
// ("<name>: corrupt JPEG data: ...") when not.
EMSCRIPTEN_KEEPALIVE int fk_jpeg_scan_check(const char* name, const std::uint8_t* data, int n) {
  return guarded(name ? name : "photo", [&] {
    if (n < 0) throw std::invalid_argument("bad arguments");
    const std::string problem = jpeg_scan_problem(data, static_cast<std::size_t>(n));
    if (!problem.empty()) throw std::invalid_argument(problem);
    return 0;
  });
}
EMSCRIPTEN_KEEPALIVE int fk_image_header_bytes() { return static_cast<int>(kImageHeaderBytes); }
EMSCRIPTEN_KEEPALIVE int fk_image_tail_bytes() { return static_cast<int>(kImageTailBytes); }

// The pixels a photo must keep for model `model` (-1: detection only).
EMSCRIPTEN_KEEPALIVE double fk_model_work_pixels(int model) {
  const Model* m = model_at(model);
  return static_cast<double>(keypoint_min_work_pixels(m ? &m->card : nullptr));
}

// A buffer for the photo's RGBA pixels (w x h, possibly a downscaled copy of
// the original); JS fills it, then calls fk_photo_commit.
EMSCRIPTEN_KEEPALIVE std::uint8_t* fk_photo_alloc(int w, int h) {
  std::uint8_t* p = nullptr;
  guarded("photo", [&] {
    free_face_textures();
    g.faces.clear();
    g.rgba = ImageU8();  // free the previous photo first
    g.gray = ImageU8();
    g.rgba = ImageU8(w, h, 4);
    p = g.rgba.data();
    redraw();
    return 0;
  });
  return p;
}

// The pixels written after fk_photo_alloc are of a photo stored orig_w x
// orig_h; they are shown after `quarter_turns_cw` turns and an optional mirror
// (its EXIF orientation, when the decoder did not apply it: rotate_and_mirror).
EMSCRIPTEN_KEEPALIVE int fk_photo_commit(int orig_w, int orig_h, int quarter_turns_cw, int mirror, const char* name) {
  return guarded("photo", [&] {
    if (g.rgba.empty()) throw std::invalid_argument("no pixels");
    if (quarter_turns_cw % 4 != 0 || mirror) g.rgba = rotate_and_mirror(g.rgba.view(), quarter_turns_cw, mirror != 0);
    const bool swap = quarter_turns_cw % 2 != 0;
    g.orig_w = swap ? orig_h : orig_w;
    g.orig_h = swap ? orig_w : orig_h;
    g.name = name;
    g.faces_model = -1;
    if (g.tex) glDeleteTextures(1, &g.tex);
    g.tex = 0;
    GLint max_tex = 4096;
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_tex);
    max_tex = std::min<GLint>(max_tex, 8192);
    const int W = g.rgba.width(), H = g.rgba.height();
    if (W <= max_tex && H <= max_tex) {
      g.tex = upload_rgba(g.rgba.data(), W, H, true);
      g.tex_w = W;
      g.tex_h = H;
    } else {  // display copy only; detection and crops use the held image
      const double s = std::min(static_cast<double>(max_tex) / W, static_cast<double>(max_tex) / H);
      const int tw = std::max(1, static_cast<int>(W * s)), th = std::max(1, static_cast<int>(H * s));
      const ImageU8 small = resize(g.rgba.view(), tw, th);
      g.tex = upload_rgba(small.data(), tw, th, true);
      g.tex_w = tw;
      g.tex_h = th;
    }
    g.fit_pending = true;
    redraw();
    return 0;
  });
}

// Scratch float buffer for model outputs written by JS.
EMSCRIPTEN_KEEPALIVE float* fk_scratch(int n) {
  if (n < 0) return nullptr;
  g.scratch.resize(static_cast<std::size_t>(n));
  return g.scratch.data();
}

// UltraFace input [1, 3, fk_detect_input_height(), fk_detect_input_width()]
// (face_detect.hpp); returns a pointer to fk_tensor_size() floats, or null on error.
EMSCRIPTEN_KEEPALIVE float* fk_detect_input() {
  const int r = guarded("detector input", [&] {
    if (g.rgba.empty()) throw std::invalid_argument("no photo");
    g.tensor = ultraface_input(g.rgba.view());
    return 0;
  });
  return r < 0 ? nullptr : g.tensor.data();
}
EMSCRIPTEN_KEEPALIVE int fk_detect_input_width() { return UltraFaceConfig{}.input_width; }
EMSCRIPTEN_KEEPALIVE int fk_detect_input_height() { return UltraFaceConfig{}.input_height; }
EMSCRIPTEN_KEEPALIVE int fk_tensor_size() { return static_cast<int>(g.tensor.size()); }

// Decodes the detector outputs in the scratch buffer: scores (n x 2) followed by
// boxes (n x 4). Returns the number of faces.
EMSCRIPTEN_KEEPALIVE int fk_detect_decode(int n, float threshold, int max_faces) {
  return guarded("face detection", [&] {
    if (g.scratch.size() != static_cast<std::size_t>(n) * 6) throw std::invalid_argument("detector output size");
    DetectOptions opt;
    opt.score_threshold = threshold;
    if (max_faces > 0) opt.max_faces = max_faces;
    const auto dets = ultraface_detections(g.scratch.data(), g.scratch.data() + 2 * static_cast<std::size_t>(n),
                                           static_cast<std::size_t>(n), g.rgba.width(), g.rgba.height(), opt);
    free_face_textures();
    g.faces.clear();
    for (const auto& d : dets) {
      Face f;
      f.box = d.box;
      f.score = d.score;
      g.faces.push_back(f);
    }
    g.faces_model = -1;
    redraw();
    return static_cast<int>(g.faces.size());
  });
}

// A face drawn by hand, in original pixels: replaces the detections.
EMSCRIPTEN_KEEPALIVE int fk_set_manual_face(float x, float y, float w, float h) {
  return guarded("face box", [&] {
    if (!(w > 0 && h > 0)) throw std::invalid_argument("empty box");
    free_face_textures();
    g.faces.clear();
    Face f;
    f.box = box_to_work(Box{x, y, w, h});
    f.manual = true;
    f.score = 1.f;
    g.faces.push_back(f);
    g.faces_model = -1;
    redraw();
    return 1;
  });
}
EMSCRIPTEN_KEEPALIVE int fk_face_count() { return static_cast<int>(g.faces.size()); }

// How many keypoint runs a photo needs, as `facekeys predict` does it
// (keypoint_runs in predict_result.hpp).
EMSCRIPTEN_KEEPALIVE int fk_keypoint_runs(int model) {
  const Model* m = model_at(model);
  return m ? static_cast<int>(keypoint_runs(m->card, g.faces.size())) : 0;
}

// The model input for face i (keypoint_pipeline.hpp); pointer to fk_tensor_size() floats.
EMSCRIPTEN_KEEPALIVE float* fk_keypoint_input(int model, int face) {
  const int r = guarded("preprocess", [&] {
    const Model* m = model_at(model);
    if (!m) throw std::invalid_argument("no such model");
    if (face < 0 || face >= static_cast<int>(g.faces.size())) throw std::invalid_argument("no such face");
    Face& f = g.faces[face];
    // As `facekeys predict`: face-box models were trained on DAN boxes, so a
    // detected box is calibrated first (face_detect.hpp); a box drawn by hand
    // is taken as a tight face box already.
    const Box face = f.manual ? f.box : ultraface_to_training_box(f.box);
    f.crop = keypoint_crop_box(m->card, g.rgba.width(), g.rgba.height(), &face);
    if (g.gray.empty()) g.gray = to_gray(g.rgba.view());
    g.tensor = keypoint_model_input(g.gray.view(), m->card, f.crop);
    return 0;
  });
  return r < 0 ? nullptr : g.tensor.data();
}

// Reads model output for face i from the scratch buffer (n floats) into points.
EMSCRIPTEN_KEEPALIVE int fk_keypoint_output(int model, int face, int n) {
  return guarded("keypoints", [&] {
    const Model* m = model_at(model);
    if (!m) throw std::invalid_argument("no such model");
    if (face < 0 || face >= static_cast<int>(g.faces.size())) throw std::invalid_argument("no such face");
    if (g.scratch.size() < static_cast<std::size_t>(n)) throw std::invalid_argument("output size");
    Face& f = g.faces[face];
    const auto pts = keypoint_output_to_image(m->card, g.scratch.data(), static_cast<std::size_t>(n), f.crop);
    f.points.clear();
    for (const Point2f& p : pts) f.points.push_back(work_to_orig(p));
    if (f.heat_tex) glDeleteTextures(1, &f.heat_tex);
    f.heat_tex = 0;
    if (m->card.output.kind == "heatmaps") {
      // What the decoder reads: each map's spatial softmax (heatmap.hpp), relative
      // to its peak; the view shows their maximum.
      const int w = m->card.output.width, h = m->card.output.height, K = m->card.num_points;
      const std::size_t cells = static_cast<std::size_t>(w) * h;
      const std::vector<float> prob = spatial_softmax(g.scratch.data(), static_cast<std::size_t>(K), h, w);
      std::vector<float> mx(cells, 0.f);
      for (int k = 0; k < K; ++k) {
        const float* p = prob.data() + static_cast<std::size_t>(k) * cells;
        const float peak = *std::max_element(p, p + cells);
        if (!(peak > 0.f)) continue;  // a map with no finite value (all NaN)
        for (std::size_t i = 0; i < cells; ++i) mx[i] = std::max(mx[i], p[i] / peak);
      }
      std::vector<std::uint8_t> rgba(mx.size() * 4);
      for (std::size_t i = 0; i < mx.size(); ++i) {
        const float v = mx[i] >= 0.f ? std::min(mx[i], 1.f) : 0.f;
        rgba[4 * i] = static_cast<std::uint8_t>(255 * std::min(1.f, 2 * v));
        rgba[4 * i + 1] = static_cast<std::uint8_t>(255 * std::max(0.f, 2 * v - 1));
        rgba[4 * i + 2] = static_cast<std::uint8_t>(255 * (1 - v) * 0.5f);
        rgba[4 * i + 3] = static_cast<std::uint8_t>(255 * std::min(1.f, 0.25f + v));
      }
      f.heat_tex = upload_rgba(rgba.data(), w, h, true);
    }
    g.faces_model = model;
    redraw();
    return static_cast<int>(f.points.size());
  });
}

// The result as `facekeys predict` writes it (predict_result.hpp; timing_ms is added by JS).
EMSCRIPTEN_KEEPALIVE const char* fk_result_json(int model) {
  g.json.clear();
  guarded("result", [&] {
    std::vector<PredictedFace> faces;
    for (const Face& f : g.faces) faces.push_back({box_to_orig(f.box), f.score, f.manual, f.points});
    const Model* m = model_at(model);
    g.json = predict_result_json(g.name, g.orig_w, g.orig_h, faces, m ? &m->card : nullptr).dump();
    return 0;
  });
  return g.json.c_str();
}

EMSCRIPTEN_KEEPALIVE void fk_set_status(const char* msg, int is_error) {
  g.status = msg;
  g.status_error = is_error != 0;
  redraw();
}
EMSCRIPTEN_KEEPALIVE void fk_set_busy(int busy) {
  if (busy && !g.busy) g.busy_since_ms = emscripten_get_now();
  g.busy = busy != 0;
  redraw();
}
EMSCRIPTEN_KEEPALIVE void fk_set_timings(double decode, double detect, double pre, double infer, double total) {
  g.t_decode = decode;
  g.t_detect = detect;
  g.t_pre = pre;
  g.t_infer = infer;
  g.t_total = total;
  redraw();
}
EMSCRIPTEN_KEEPALIVE void fk_set_photo_list(int index, int count) {
  g.photo_index = index;
  g.photo_count = count;
  redraw();
}
EMSCRIPTEN_KEEPALIVE float fk_threshold() { return g.threshold; }
EMSCRIPTEN_KEEPALIVE void fk_set_threshold(float t) { set_and_redraw(g.threshold, t); }
EMSCRIPTEN_KEEPALIVE void fk_set_overlay(int on) { set_and_redraw(g.overlay, on != 0); }
EMSCRIPTEN_KEEPALIVE void fk_set_heatmap(int on) { set_and_redraw(g.heatmap, on != 0); }
EMSCRIPTEN_KEEPALIVE void fk_set_point_size(float s) { set_and_redraw(g.point_size, s); }
EMSCRIPTEN_KEEPALIVE void fk_set_lines(int on) { set_and_redraw(g.lines, on != 0); }
// Clears the photo, its points and its texture: after a photo that failed to
// decode, the previous one (with its points) would stay on screen otherwise.
EMSCRIPTEN_KEEPALIVE void fk_clear_photo() {
  free_face_textures();
  g.faces.clear();
  g.faces_model = -1;
  g.rgba = ImageU8();
  g.gray = ImageU8();
  g.name.clear();
  if (g.tex) glDeleteTextures(1, &g.tex);
  g.tex = 0;
  redraw();
}

// The current view, for tests: screen (canvas pixel) = (x + 0.5) * scale + (ox, oy).
EMSCRIPTEN_KEEPALIVE const char* fk_view_json() {
  Json j = Json::object();
  const Model* cur = model_at(g.model);
  j["model"] = cur ? cur->id : std::string();
  j["model_note"] = cur && card_is_whole_image(cur->card) ? std::string(kWholeImageNote) : std::string();  // shown in the panel
  j["scale"] = static_cast<double>(g.view_scale);
  j["ox"] = static_cast<double>(g.view_x);
  j["oy"] = static_cast<double>(g.view_y);
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(g.window, &fw, &fh);
  j["photo"] = g.tex ? g.name : std::string();  // the photo shown ("" for none)
  j["faces"] = g.faces.size();
  j["canvas_width"] = fw;
  j["canvas_height"] = fh;
  j["panel"] = Json(Json::Array{Json(static_cast<double>(g.panel_pos.x)), Json(static_cast<double>(g.panel_pos.y)),
                                Json(static_cast<double>(g.panel_size.x)), Json(static_cast<double>(g.panel_size.y))});
  g.json = j.dump();
  return g.json.c_str();
}
EMSCRIPTEN_KEEPALIVE void fk_fit_view() {
  fit_view();
  redraw();
}

}  // extern "C"

int main() {
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
    EM_ASM({ if (window.facekeysApp && window.facekeysApp.fatal) window.facekeysApp.fatal('This browser has no WebGL2.'); });
    return 1;
  }
  glfwMakeContextCurrent(g.window);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no file system (platform_web.hpp)
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(g.window, true);
  ImGui_ImplOpenGL3_Init("#version 300 es");
  emscripten_set_main_loop_arg(frame, nullptr, 0, 0);
  EM_ASM({ if (window.facekeysApp && window.facekeysApp.onReady) window.facekeysApp.onReady(); });
  return 0;
}
