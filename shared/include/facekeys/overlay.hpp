// What an overlay shows, as a list of drawing primitives in original-image
// pixels: one look for every place that draws keypoints (`facekeys predict
// --overlay`, `facekeys report`, the page's view and its PNG export). Hosts
// only draw the primitives: natively and for the page's PNG export with the
// core's rasteriser (draw.hpp), in the page's live view with ImGui's draw list
// (wasm/overlay_view.cpp), scaled by the view.
//
// Coordinates follow crop.hpp: pixel centres at integers, so pixel (i, j)
// covers [i - 0.5, i + 0.5] x [j - 0.5, j + 0.5] and the whole image is the
// extent {-0.5, -0.5, W, H}. Sizes (widths, radii, text heights) are in the
// same pixels and grow with the photo (overlay_scale), so a 12-megapixel photo
// and a 300-pixel crop look alike when each fills the screen.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "facekeys/crop.hpp"
#include "facekeys/geometry.hpp"
#include "facekeys/image.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/predict_result.hpp"
#include "facekeys/schema.hpp"

namespace facekeys {

struct Color {
  std::uint8_t r = 0, g = 0, b = 0, a = 255;
};

struct OverlayItem {
  enum class Kind {
    Rect,      // a rectangle's outline, drawn inside the extent `area` (its outer edge on the box's edge)
    FillRect,  // `area` filled
    Polyline,  // `points` joined by lines of `size` width (closed: back to the first)
    Dots,      // filled discs of radius `size` at `points`
    Text,      // `text` (digits and . # - : % and space; other characters leave a gap), capitals `size`
               // high, its top-left corner at points[0]
    Image,     // `image` (RGBA) stretched over `area`, its alpha times color.a / 255
  };
  Kind kind = Kind::Dots;
  Color color;
  float size = 1.f;
  std::vector<Point2f> points;
  Box area;
  bool closed = false;
  std::string text;
  ImageU8 image;
  int face = -1;  // the face (index into the result's faces) it belongs to; -1: none
};

struct Overlay {
  int width = 0, height = 0;  // the image it is drawn on (original pixels)
  std::vector<OverlayItem> items;
};

// The look, with the colours and switches the page's panel changes.
struct OverlayStyle {
  Color box{255, 200, 0};         // detected faces, and their score labels
  Color manual_box{0, 200, 255};  // face boxes drawn by hand
  Color line{255, 60, 60, 230};   // the schema's polylines (eyebrows, eyes, nose, lips, jaw)
  Color point{0, 255, 80};        // the keypoints
  Color label_background{0, 0, 0, 150};
  Color truth{60, 120, 255};      // ground-truth points where a host shows them (`facekeys report`)
  float point_scale = 1.f;        // times the default point radius (the page's "point size")
  bool boxes = true, labels = true, lines = true, points = true;
  bool heatmaps = false;          // heatmap models' maps over their crops (the page's "heatmap")
  float heatmap_alpha = 0.67f;
  bool pose_axes = false;         // 68-point faces: head-pose axes from the nose tip (video's default)
  Color axis_x{255, 70, 70}, axis_y{70, 230, 70}, axis_z{80, 140, 255};  // the person's left, up, forward
};

// The sizes for an image of this size: line width max(1, side/600), box
// outline twice that, point radius max(1.5, side/320) * point_scale, label
// capitals max(9, side/45) pixels, side = max(width, height).
struct OverlaySizes {
  float line = 1.f, box = 2.f, point = 1.5f, text = 9.f;
};
OverlaySizes overlay_sizes(int width, int height, const OverlayStyle& style);

// One face's keypoints: the schema's polylines through the decoded points
// (a NaN point is left out of its line) and a dot per decoded point, in
// `color` (points) and style.line (lines). `schema` may be null (dots only),
// and is ignored when it does not have points.size() points.
void add_landmarks(Overlay& overlay, const std::vector<Point2f>& points, const LandmarkSchema* schema,
                   const OverlayStyle& style, Color point_color, int face = -1);

// A photo's result: per face its box (detected or drawn by hand), the score
// label of a detected box, the heatmap view (when style.heatmaps and the face
// has one), the lines and the points, and for 68-point faces with
// style.pose_axes their head-pose axes (add_pose_axes). `schema` may be null
// (no model ran).
struct FaceView {
  const PredictedFace* face = nullptr;
  const ImageU8* heatmap = nullptr;  // RGBA, empty or null: none
  Box heatmap_area;                  // where the heatmap lies: the model's crop, original pixels
  std::string label;                 // the box's label (a track's "#id"); empty: the detector's score
};
Overlay photo_overlay(int width, int height, const std::vector<FaceView>& faces, const LandmarkSchema* schema,
                      const OverlayStyle& style);

// Head-pose axes of a 68-point face (head_pose.hpp): three lines of 50 mm on
// the generic face from its nose tip: to the person's left (axis_x), up
// (axis_y) and forward, out of the face (axis_z), projected with the default camera of a
// width x height image. Nothing when the pose cannot be solved.
void add_pose_axes(Overlay& overlay, const std::vector<Point2f>& points68, const OverlayStyle& style, int face = -1);

// The width of `text` in the core's font (draw.cpp: 5 x 7 cells a glyph,
// advancing 6) with capitals `height` pixels high.
float text_width(const std::string& text, float height);

// What a heatmap model "sees", as an RGBA image of its maps' size: each map's
// spatial softmax (what the decoder reads, heatmap.hpp) relative to its peak,
// the maximum over the maps, in a dark-red-yellow ramp with the alpha rising
// with the value. `output` is one face's K x h x w maps.
ImageU8 heatmap_view(const float* output, int num_maps, int height, int width);
// The same from maps that are probabilities already (spatial_softmax's output),
// over the maps listed in `maps` (empty: all). Throws std::invalid_argument on
// a map index out of range.
ImageU8 heatmap_view_of_probabilities(const float* prob, int num_maps, int height, int width,
                                      const std::vector<int>& maps);

}  // namespace facekeys
