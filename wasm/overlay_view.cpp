// The photo and its overlay on screen: the overlay's primitives (overlay.hpp,
// the same list `facekeys predict --overlay` and the PNG export rasterise with
// draw.hpp) drawn with ImGui's draw list at the view's scale, the name of the
// point under the mouse, and the view's input: zoom, pan, a face box drawn by
// hand.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "app.hpp"
#include "facekeys/schema.hpp"
#include "platform_web.hpp"

namespace facekeys_app {

using facekeys::Box;
using facekeys::OverlayItem;
using facekeys::Point2f;

namespace {

ImVec2 to_screen(Point2f p) {
  return ImVec2(g.view_x + (p.x + 0.5f) * g.view_scale, g.view_y + (p.y + 0.5f) * g.view_scale);
}
Point2f from_screen(ImVec2 s) {
  return {(s.x - g.view_x) / g.view_scale - 0.5f, (s.y - g.view_y) / g.view_scale - 0.5f};
}
// The photo's (or video frame's) outer edges on screen: where the texture or the
// page's video layer goes.
struct ScreenRect {
  ImVec2 min, max;
};
ScreenRect photo_on_screen() {
  return {to_screen({-0.5f, -0.5f}), to_screen({photo_width() - 0.5f, photo_height() - 0.5f})};
}
ImU32 im_color(facekeys::Color c) { return IM_COL32(c.r, c.g, c.b, c.a); }
ImTextureID texture_id(GLuint t) { return reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(t)); }


void rebuild_overlay() {
  free_overlay_textures();
  // Video frames have theirs drawn in the page's video layer (fk_video_layer_draw).
  g.overlay = g.job && !g.video_mode() ? g.job->overlay(g.style) : facekeys::Overlay{};
  for (const OverlayItem& it : g.overlay.items)
    g.overlay_textures.push_back(it.kind == OverlayItem::Kind::Image && !it.image.empty() ? upload_rgba(it.image.view()) : 0);
  g.overlay_stale = false;
}

// One primitive at the view's scale (sizes are in photo pixels, as the rasteriser draws them).
void draw_item(ImDrawList* dl, const OverlayItem& it, GLuint texture) {
  const float s = g.view_scale;
  const ImU32 col = im_color(it.color);
  switch (it.kind) {
    case OverlayItem::Kind::Rect: {  // the stroke inside the extent, as draw.hpp draws it
      const float w = std::max(1.f, it.size * s);
      const ImVec2 a = to_screen({it.area.x, it.area.y}), b = to_screen({it.area.x + it.area.w, it.area.y + it.area.h});
      dl->AddRect(ImVec2(a.x + 0.5f * w, a.y + 0.5f * w), ImVec2(b.x - 0.5f * w, b.y - 0.5f * w), col, 0.f, 0, w);
      break;
    }
    case OverlayItem::Kind::FillRect:
      dl->AddRectFilled(to_screen({it.area.x, it.area.y}), to_screen({it.area.x + it.area.w, it.area.y + it.area.h}),
                        col);
      break;
    case OverlayItem::Kind::Polyline: {
      std::vector<ImVec2> pts;
      for (const Point2f& p : it.points) pts.push_back(to_screen(p));
      dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), col, it.closed ? ImDrawFlags_Closed : 0,
                      std::max(1.f, it.size * s));
      break;
    }
    case OverlayItem::Kind::Dots:
      for (const Point2f& p : it.points) dl->AddCircleFilled(to_screen(p), std::max(1.f, it.size * s), col);
      break;
    case OverlayItem::Kind::Text: {
      if (it.points.empty()) break;
      // ImGui's font has capitals 9/13 of its size: scaled so its capitals are the item's size.
      const float px = it.size * s * 13.f / 9.f;
      dl->AddText(ImGui::GetFont(), px, to_screen(it.points[0]), col, it.text.c_str());
      break;
    }
    case OverlayItem::Kind::Image:
      if (texture)
        dl->AddImage(texture_id(texture), to_screen({it.area.x, it.area.y}),
                     to_screen({it.area.x + it.area.w, it.area.y + it.area.h}), ImVec2(0, 0), ImVec2(1, 1),
                     IM_COL32(255, 255, 255, it.color.a));
      break;
  }
}

// The name of the point nearest the mouse, when it is over one.
void point_tooltip() {
  if (!g.names || ImGui::GetIO().WantCaptureMouse || (!g.job && !g.video_mode())) return;
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  float best_d = std::max(6.f, 1.5f * g.style.point_scale + 3.f);
  int best_face = -1, best_pt = -1;
  std::vector<facekeys::PredictedFace> video_faces;
  if (g.video_mode())
    for (const facekeys::TrackedFace& f : g.video.shown) video_faces.push_back(f.face);
  const auto& faces = g.video_mode() ? video_faces : g.job->faces();
  for (std::size_t fi = 0; fi < faces.size(); ++fi)
    for (std::size_t k = 0; k < faces[fi].points.size(); ++k) {
      const ImVec2 s = to_screen(faces[fi].points[k]);
      const float d = std::hypot(s.x - mouse.x, s.y - mouse.y);
      if (d < best_d) {
        best_d = d;
        best_face = static_cast<int>(fi);
        best_pt = static_cast<int>(k);
      }
    }
  if (best_pt < 0) return;
  const Model* video_model = model_at(g.video.model);
  const facekeys::ModelCard* card = g.video_mode() ? (video_model ? &video_model->card : nullptr) : g.job->card();
  const facekeys::LandmarkSchema* schema = card ? &facekeys::schema_by_name(card->schema) : nullptr;
  const std::string name = schema && best_pt < static_cast<int>(schema->point_names.size())
                               ? schema->point_names[best_pt]
                               : std::string("point");
  const Point2f p = faces[best_face].points[best_pt];
  ImGui::BeginTooltip();
  if (g.video_mode())
    ImGui::Text("face id %d, point %d: %s", g.video.shown[best_face].id, best_pt, name.c_str());
  else
    ImGui::Text("face %d, point %d: %s", best_face, best_pt, name.c_str());
  ImGui::Text("x %.1f  y %.1f", p.x, p.y);
  ImGui::EndTooltip();
}

// The page's video layer (platform_web.hpp) where the frame is in the view,
// in CSS pixels of the canvas; hidden outside video mode. Told only when it
// changed.
void place_video_layer(bool shown) {
  static float last[4] = {-1.f, -1.f, -1.f, -1.f};
  float r[4] = {0.f, 0.f, 0.f, 0.f};
  if (shown) {
    const ScreenRect p = photo_on_screen();
    const float dpr = g.ui_scale;  // devicePixelRatio (set_ui_scale)
    r[0] = p.min.x / dpr, r[1] = p.min.y / dpr, r[2] = (p.max.x - p.min.x) / dpr, r[3] = (p.max.y - p.min.y) / dpr;
  }
  if (std::equal(r, r + 4, last)) return;
  std::copy(r, r + 4, last);
  facekeys_web::web_call4("placeVideoLayer", r[0], r[1], r[2], r[3]);
}

}  // namespace

GLuint upload_rgba(facekeys::ViewU8 image) {
  GLuint t = 0;
  glGenTextures(1, &t);
  glBindTexture(GL_TEXTURE_2D, t);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, image.width(), image.height(), 0, GL_RGBA, GL_UNSIGNED_BYTE, image.data());  // tightly packed
  return t;
}

void free_overlay_textures() {
  for (GLuint t : g.overlay_textures)
    if (t) glDeleteTextures(1, &t);
  g.overlay_textures.clear();
}

void draw_photo_and_overlay() {
  const bool video = g.video_mode();
  place_video_layer(video && g.video.frame_w > 0);
  if (video ? g.video.frame_w == 0 : !(g.job && g.tex)) return;
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  if (!video) {
    const ScreenRect p = photo_on_screen();
    dl->AddImage(texture_id(g.tex), p.min, p.max);
  }
  if (g.show_overlay) {
    if (g.overlay_stale) rebuild_overlay();  // empty in video mode: the layer has the frame's overlay
    for (std::size_t i = 0; i < g.overlay.items.size(); ++i) draw_item(dl, g.overlay.items[i], g.overlay_textures[i]);
    point_tooltip();
  }
  if (g.dragging_box) dl->AddRect(g.drag_start, ImGui::GetIO().MousePos, im_color(g.style.manual_box), 0.f, 0, 2.f * g.ui_scale);
}

// Zoom (wheel, about the cursor), pan (drag), draw a face box (box mode or shift-drag).
void handle_view_input() {
  ImGuiIO& io = ImGui::GetIO();
  if (g.video_mode() ? g.video.frame_w == 0 : g.tex == 0) return;
  if (!io.WantCaptureMouse) {
    if (io.MouseWheel != 0.f) {
      const Point2f p = from_screen(io.MousePos);
      g.view_scale = std::clamp(g.view_scale * std::pow(1.15f, io.MouseWheel), 1e-3f, 64.f);
      g.view_x = io.MousePos.x - (p.x + 0.5f) * g.view_scale;
      g.view_y = io.MousePos.y - (p.y + 0.5f) * g.view_scale;
    }
    if (ImGui::IsMouseClicked(0) && (g.draw_box_mode || io.KeyShift) && !g.video_mode()) {
      g.dragging_box = true;
      g.drag_start = io.MousePos;
    }
    if ((ImGui::IsMouseDragging(0) && !g.dragging_box) || ImGui::IsMouseDragging(1) || ImGui::IsMouseDragging(2)) {
      g.view_x += io.MouseDelta.x;
      g.view_y += io.MouseDelta.y;
    }
  }
  if (g.dragging_box && ImGui::IsMouseReleased(0)) {
    g.dragging_box = false;
    const Point2f a = from_screen(g.drag_start), b = from_screen(io.MousePos);
    const float x0 = std::max(-0.5f, std::min(a.x, b.x)), y0 = std::max(-0.5f, std::min(a.y, b.y));
    const float x1 = std::min(photo_width() - 0.5f, std::max(a.x, b.x));
    const float y1 = std::min(photo_height() - 0.5f, std::max(a.y, b.y));
    if (x1 - x0 >= 4.f && y1 - y0 >= 4.f) {
      g.draw_box_mode = false;
      facekeys_web::web_call4("manualBox", x0, y0, x1 - x0, y1 - y0);  // original pixels
    }
  }
}

}  // namespace facekeys_app
