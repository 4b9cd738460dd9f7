// The overlay's primitives (facekeys/overlay.hpp) and the core's rasteriser
// (facekeys/draw.hpp): coverage conventions, one blend per item, scaling.
#include <cmath>
#include <cstdint>
#include <vector>

#include "support/catch.hpp"

#include "facekeys/draw.hpp"
#include "facekeys/overlay.hpp"
#include "facekeys/schema.hpp"

using namespace facekeys;

namespace {

Overlay one(int w, int h, OverlayItem item) {
  Overlay o;
  o.width = w;
  o.height = h;
  o.items.push_back(std::move(item));
  return o;
}

OverlayItem item(OverlayItem::Kind kind, Color color, float size = 1.f) {
  OverlayItem it;
  it.kind = kind;
  it.color = color;
  it.size = size;
  return it;
}

int red(const ImageU8& img, int x, int y) { return img.at(x, y, 0); }

}  // namespace

TEST_CASE("draw: a filled rectangle on whole pixels covers exactly them", "[draw]") {
  ImageU8 img(10, 10, 3);
  OverlayItem r = item(OverlayItem::Kind::FillRect, Color{255, 0, 0});
  r.area = Box{1.5f, 2.5f, 4.f, 2.f};  // pixels 2..5 x 3..4 (pixel i covers [i - 0.5, i + 0.5])
  draw_overlay(img.view(), one(10, 10, r));
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) CHECK(red(img, x, y) == ((x >= 2 && x <= 5 && y >= 3 && y <= 4) ? 255 : 0));
  // half a pixel: half the colour
  ImageU8 half(4, 4, 3);
  r.area = Box{0.f, -0.5f, 1.f, 4.f};  // pixel 0 half covered, pixel 1 half covered
  draw_overlay(half.view(), one(4, 4, r));
  CHECK(red(half, 0, 0) == 128);
  CHECK(red(half, 1, 0) == 128);
  CHECK(red(half, 2, 0) == 0);
}

TEST_CASE("draw: a box outline lies inside its extent, the inside untouched", "[draw]") {
  ImageU8 img(12, 12, 4, 0);
  OverlayItem r = item(OverlayItem::Kind::Rect, Color{0, 255, 0}, 2.f);
  r.area = Box{-0.5f, -0.5f, 12.f, 12.f};
  draw_overlay(img.view(), one(12, 12, r));
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 12; ++x) {
      const bool border = x < 2 || y < 2 || x > 9 || y > 9;
      CHECK(img.at(x, y, 1) == (border ? 255 : 0));
      CHECK(img.at(x, y, 3) == 0);  // an RGBA image keeps its alpha
    }
}

TEST_CASE("draw: discs have their area, lines are blended once at their joints", "[draw]") {
  ImageU8 img(40, 40, 3);
  OverlayItem d = item(OverlayItem::Kind::Dots, Color{255, 255, 255}, 6.f);
  d.points = {Point2f{20.f, 20.f}};
  draw_overlay(img.view(), one(40, 40, d));
  double sum = 0;
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 40; ++x) sum += red(img, x, y) / 255.0;
  CHECK(sum == Approx(3.14159265358979 * 36).epsilon(0.03));
  CHECK(red(img, 20, 20) == 255);
  CHECK(red(img, 20, 27) == 0);

  // A half-transparent polyline: its corner pixel is no darker than the middle of a segment.
  ImageU8 line(40, 40, 3);
  OverlayItem pl = item(OverlayItem::Kind::Polyline, Color{255, 255, 255, 128}, 3.f);
  pl.points = {Point2f{5.f, 5.f}, Point2f{30.f, 5.f}, Point2f{30.f, 30.f}};
  draw_overlay(line.view(), one(40, 40, pl));
  CHECK(red(line, 17, 5) == 128);
  CHECK(red(line, 30, 5) == 128);
  CHECK(red(line, 30, 17) == 128);
  CHECK(red(line, 17, 20) == 0);
  pl.closed = true;  // closing adds the diagonal back to the first point
  draw_overlay(line.view(), one(40, 40, pl));
  CHECK(red(line, 17, 17) > 0);
}

TEST_CASE("draw: text fills its measured width, characters the font lacks leave gaps", "[draw]") {
  ImageU8 img(60, 20, 3);
  OverlayItem t = item(OverlayItem::Kind::Text, Color{255, 255, 255}, 14.f);
  t.text = "0.98";
  t.points = {Point2f{1.5f, 2.5f}};  // top-left corner on a pixel edge
  draw_overlay(img.view(), one(60, 20, t));
  const float w = text_width(t.text, 14.f);
  CHECK(w == Approx((6 * 4 - 1) * 2.f));
  int x_min = 99, x_max = -1, y_min = 99, y_max = -1;
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 60; ++x)
      if (red(img, x, y) > 0) {
        x_min = std::min(x_min, x), x_max = std::max(x_max, x), y_min = std::min(y_min, y), y_max = std::max(y_max, y);
      }
  CHECK(x_min == 2);
  CHECK(x_max == 2 + static_cast<int>(w) - 1);
  CHECK(y_min == 3);
  CHECK(y_max == 3 + 14 - 1);
  ImageU8 gap(60, 20, 3);
  t.text = "a";
  draw_overlay(gap.view(), one(60, 20, t));
  for (std::uint8_t v : gap.pixels()) CHECK(v == 0);
}

TEST_CASE("draw: an overlay drawn on a scaled copy of the photo scales with it", "[draw]") {
  OverlayItem r = item(OverlayItem::Kind::FillRect, Color{255, 0, 0});
  r.area = Box{3.5f, 3.5f, 8.f, 4.f};  // pixels 4..11 x 4..7 of 16x16
  ImageU8 half(8, 8, 3);
  draw_overlay(half.view(), one(16, 16, r));  // -> pixels 2..5 x 2..3 of 8x8
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) CHECK(red(half, x, y) == ((x >= 2 && x <= 5 && y >= 2 && y <= 3) ? 255 : 0));
}

TEST_CASE("draw: an image item is stretched over its area with its alpha", "[draw]") {
  ImageU8 src(2, 2, 4);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) {
      src.at(x, y, 0) = 200;
      src.at(x, y, 3) = 255;
    }
  OverlayItem im = item(OverlayItem::Kind::Image, Color{255, 255, 255, 128});
  im.image = src;
  im.area = Box{1.5f, 1.5f, 4.f, 4.f};
  ImageU8 img(8, 8, 3);
  draw_overlay(img.view(), one(8, 8, im));
  CHECK(red(img, 3, 3) == 100);  // 200 * 128/255, rounded
  CHECK(red(img, 1, 1) == 0);
  CHECK(red(img, 6, 6) == 0);
}

TEST_CASE("draw: bad arguments are refused", "[draw]") {
  ImageU8 gray(4, 4, 1);
  CHECK_THROWS_AS(draw_overlay(gray.view(), one(4, 4, OverlayItem{})), std::invalid_argument);
  ImageU8 rgb(4, 4, 3);
  CHECK_THROWS_AS(draw_overlay(rgb.view(), Overlay{}), std::invalid_argument);
  // Non-finite coordinates draw nothing rather than failing.
  OverlayItem d = item(OverlayItem::Kind::Dots, Color{255, 0, 0}, 2.f);
  d.points = {Point2f{NAN, 1.f}};
  OverlayItem r = item(OverlayItem::Kind::Rect, Color{255, 0, 0}, 2.f);
  r.area = Box{INFINITY, 0.f, 2.f, 2.f};
  Overlay o = one(4, 4, d);
  o.items.push_back(r);
  draw_overlay(rgb.view(), o);
  for (std::uint8_t v : rgb.pixels()) CHECK(v == 0);
}

TEST_CASE("overlay: a photo's faces become boxes, labels, lines and points in the style's colours", "[overlay]") {
  const LandmarkSchema& schema = schema_by_name("ibug68");
  PredictedFace detected{Box{10.f, 60.f, 100.f, 120.f}, 0.98f, false, {}};
  for (int k = 0; k < 68; ++k) detected.points.push_back(Point2f{20.f + k, 80.f + (k % 7)});
  detected.points[5] = Point2f{NAN, NAN};  // not decoded: left out of points and lines
  PredictedFace manual{Box{200.f, 50.f, 50.f, 50.f}, 1.f, true, {}};
  const std::vector<FaceView> views = {FaceView{&detected, nullptr, {}, {}}, FaceView{&manual, nullptr, {}, {}}};
  OverlayStyle style;
  const Overlay o = photo_overlay(640, 480, views, &schema, style);
  CHECK(o.width == 640);
  int rects = 0, texts = 0, lines = 0, dots = 0;
  for (const OverlayItem& it : o.items) {
    using K = OverlayItem::Kind;
    if (it.kind == K::Rect) {
      ++rects;
      const bool is_manual = it.face == 1;
      CHECK(it.color.b == (is_manual ? style.manual_box.b : style.box.b));
    }
    if (it.kind == K::Text) {
      ++texts;
      CHECK(it.text == "0.98");
      CHECK(it.face == 0);
      CHECK(it.points[0].y < 60.f);  // above the box
    }
    if (it.kind == K::Polyline) {
      ++lines;
      for (const Point2f& p : it.points) CHECK(std::isfinite(p.x));
    }
    if (it.kind == K::Dots) {
      ++dots;
      CHECK(it.points.size() == 67u);
      CHECK(it.size == Approx(overlay_sizes(640, 480, style).point));
    }
  }
  CHECK(rects == 2);
  CHECK(texts == 1);  // a box drawn by hand has no score
  CHECK(lines == static_cast<int>(schema.polylines.size()));
  CHECK(dots == 1);
  // Switches.
  style.boxes = style.lines = false;
  const Overlay bare = photo_overlay(640, 480, views, &schema, style);
  REQUIRE(bare.items.size() == 1);
  CHECK(bare.items[0].kind == OverlayItem::Kind::Dots);
  // Sizes grow with the photo.
  CHECK(overlay_sizes(4000, 3000, style).line > overlay_sizes(400, 300, style).line);
}

TEST_CASE("overlay: the heatmap view is the peak-relative softmax, brightest at the peak", "[overlay]") {
  std::vector<float> maps(2 * 8 * 8, 0.f);
  maps[3 * 8 + 4] = 9.f;            // map 0 peaks at (4, 3)
  maps[64 + 6 * 8 + 1] = 9.f;       // map 1 at (1, 6)
  const ImageU8 v = heatmap_view(maps.data(), 2, 8, 8);
  REQUIRE(v.channels() == 4);
  CHECK(v.at(4, 3, 0) == 255);
  CHECK(v.at(1, 6, 1) == 255);
  CHECK(v.at(0, 0, 0) < 10);
}
