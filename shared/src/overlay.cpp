#include "facekeys/overlay.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "facekeys/head_pose.hpp"
#include "facekeys/heatmap.hpp"

namespace facekeys {

namespace {

bool finite(const Point2f& p) { return std::isfinite(p.x) && std::isfinite(p.y); }

}  // namespace

OverlaySizes overlay_sizes(int width, int height, const OverlayStyle& style) {
  const float side = static_cast<float>(std::max(width, height));
  OverlaySizes s;
  s.line = std::max(1.f, side / 600.f);
  s.box = 2.f * s.line;
  s.point = std::max(1.5f, side / 320.f) * std::max(0.05f, style.point_scale);
  s.text = std::max(9.f, side / 45.f);
  return s;
}

void add_landmarks(Overlay& overlay, const std::vector<Point2f>& points, const LandmarkSchema* schema,
                   const OverlayStyle& style, Color point_color, int face) {
  const OverlaySizes sizes = overlay_sizes(overlay.width, overlay.height, style);
  if (style.lines && schema != nullptr && static_cast<int>(points.size()) == schema->num_points) {
    for (const auto& pl : schema->polylines) {
      OverlayItem line;
      line.kind = OverlayItem::Kind::Polyline;
      line.color = style.line;
      line.size = sizes.line;
      line.closed = pl.closed;
      line.face = face;
      for (int i : pl.indices)
        if (i >= 0 && i < static_cast<int>(points.size()) && finite(points[i])) line.points.push_back(points[i]);
      if (line.points.size() >= 2) overlay.items.push_back(std::move(line));
    }
  }
  if (style.points) {
    OverlayItem dots;
    dots.kind = OverlayItem::Kind::Dots;
    dots.color = point_color;
    dots.size = sizes.point;
    dots.face = face;
    for (const Point2f& p : points)
      if (finite(p)) dots.points.push_back(p);
    if (!dots.points.empty()) overlay.items.push_back(std::move(dots));
  }
}

Overlay photo_overlay(int width, int height, const std::vector<FaceView>& faces, const LandmarkSchema* schema,
                      const OverlayStyle& style) {
  Overlay o;
  o.width = width;
  o.height = height;
  const OverlaySizes sizes = overlay_sizes(width, height, style);
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const PredictedFace& f = *faces[i].face;
    const int id = static_cast<int>(i);
    if (style.heatmaps && faces[i].heatmap != nullptr && !faces[i].heatmap->empty()) {
      OverlayItem heat;
      heat.kind = OverlayItem::Kind::Image;
      heat.color = Color{255, 255, 255, static_cast<std::uint8_t>(std::lround(255 * std::clamp(style.heatmap_alpha, 0.f, 1.f)))};
      heat.image = *faces[i].heatmap;
      heat.area = faces[i].heatmap_area;
      heat.face = id;
      o.items.push_back(std::move(heat));
    }
    if (style.boxes) {
      OverlayItem box;
      box.kind = OverlayItem::Kind::Rect;
      box.color = f.manual ? style.manual_box : style.box;
      box.size = sizes.box;
      box.area = f.box;
      box.face = id;
      o.items.push_back(std::move(box));
      if (style.labels && (!f.manual || !faces[i].label.empty())) {
        char text[32];
        std::snprintf(text, sizeof text, "%.2f", static_cast<double>(f.score));
        OverlayItem label;
        label.kind = OverlayItem::Kind::Text;
        label.color = style.box;
        label.size = sizes.text;
        label.text = faces[i].label.empty() ? text : faces[i].label;
        label.face = id;
        // Above the box's top-left corner, or inside it where there is no room above.
        const float pad = std::max(1.f, std::round(sizes.text / 5.f));
        const float h = sizes.text + 2 * pad;
        const float w = text_width(label.text, sizes.text) + 2 * pad;
        const float y0 = f.box.y - h >= -0.5f ? f.box.y - h : f.box.y;
        OverlayItem back;
        back.kind = OverlayItem::Kind::FillRect;
        back.color = style.label_background;
        back.area = Box{f.box.x, y0, w, h};
        back.face = id;
        label.points = {Point2f{f.box.x + pad, y0 + pad}};
        o.items.push_back(std::move(back));
        o.items.push_back(std::move(label));
      }
    }
    if (!f.points.empty()) add_landmarks(o, f.points, schema, style, style.point, id);
    if (style.pose_axes && schema && schema->name == "ibug68" && f.points.size() == 68)
      add_pose_axes(o, f.points, style, id);
  }
  return o;
}

void add_pose_axes(Overlay& overlay, const std::vector<Point2f>& points68, const OverlayStyle& style, int face) {
  const PinholeCamera camera = default_camera(overlay.width, overlay.height);
  HeadPose pose;
  if (!head_pose(points68, camera, pose)) return;
  const OverlaySizes sizes = overlay_sizes(overlay.width, overlay.height, style);
  const Point2f origin = project_point(Point3f{0.f, 0.f, 0.f}, pose.rotation, pose.translation, camera);
  const float L = 50.f;  // mm
  // The generic face's axes are the camera's (y down, z away): up and forward are -y and -z.
  const std::pair<Point3f, Color> axes[] = {{Point3f{L, 0.f, 0.f}, style.axis_x},
                                            {Point3f{0.f, -L, 0.f}, style.axis_y},
                                            {Point3f{0.f, 0.f, -L}, style.axis_z}};
  for (const auto& [end, color] : axes) {
    OverlayItem line;
    line.kind = OverlayItem::Kind::Polyline;
    line.color = color;
    line.size = 2 * sizes.line;
    line.points = {origin, project_point(end, pose.rotation, pose.translation, camera)};
    line.face = face;
    overlay.items.push_back(std::move(line));
  }
}

ImageU8 heatmap_view(const float* output, int num_maps, int height, int width) {
  const std::vector<float> prob =
      spatial_softmax(output, static_cast<std::size_t>(num_maps), height, width);
  return heatmap_view_of_probabilities(prob.data(), num_maps, height, width, {});
}

ImageU8 heatmap_view_of_probabilities(const float* prob, int num_maps, int height, int width,
                                      const std::vector<int>& maps) {
  const std::size_t cells = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  std::vector<float> mx(cells, 0.f);
  auto add = [&](int k) {
    if (k < 0 || k >= num_maps)
      throw std::invalid_argument("heatmap view: map " + std::to_string(k) + " is not in 0.." + std::to_string(num_maps - 1));
    const float* p = prob + static_cast<std::size_t>(k) * cells;
    const float peak = *std::max_element(p, p + cells);
    if (!(peak > 0.f)) return;  // a map with no finite value (all NaN)
    for (std::size_t i = 0; i < cells; ++i) mx[i] = std::max(mx[i], p[i] / peak);
  };
  if (maps.empty())
    for (int k = 0; k < num_maps; ++k) add(k);
  for (int k : maps) add(k);
  ImageU8 rgba(width, height, 4);
  std::uint8_t* px = rgba.data();
  for (std::size_t i = 0; i < cells; ++i) {
    const float v = mx[i] >= 0.f ? std::min(mx[i], 1.f) : 0.f;
    px[4 * i] = static_cast<std::uint8_t>(255 * std::min(1.f, 2 * v));
    px[4 * i + 1] = static_cast<std::uint8_t>(255 * std::max(0.f, 2 * v - 1));
    px[4 * i + 2] = static_cast<std::uint8_t>(255 * (1 - v) * 0.5f);
    px[4 * i + 3] = static_cast<std::uint8_t>(255 * std::min(1.f, 0.25f + v));
  }
  return rgba;
}

}  // namespace facekeys
