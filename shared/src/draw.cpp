#include "facekeys/draw.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace facekeys {

namespace {

// ---- the font: 5 x 7 cells a glyph, one byte a row (bit 4 = leftmost) ----------
struct Glyph {
  char c;
  std::uint8_t rows[7];
};
constexpr Glyph kFont[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}}, {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
};
const Glyph* glyph(char c) {
  for (const Glyph& g : kFont)
    if (g.c == c) return &g;
  return nullptr;  // a space, or a character the font lacks: a gap
}

// ---- coverage masks -------------------------------------------------------------
// v (a whole number, maybe huge or not finite) as an int within [lo, hi].
int clamp_to(float v, int lo, int hi) {
  if (!(v >= static_cast<float>(lo))) return lo;
  if (!(v <= static_cast<float>(hi))) return hi;
  return static_cast<int>(v);
}

// An item's coverage (0..1) over the pixels of its bounding rectangle, blended
// into the image once.
struct Mask {
  int x0 = 0, y0 = 0, w = 0, h = 0;  // pixel rectangle, clipped to the image
  std::vector<float> a;
  Mask(float fx0, float fy0, float fx1, float fy1, int W, int H) {
    // Clamped in float first: a coordinate far outside (or not finite) must not overflow an int.
    if (std::isfinite(fx0) && std::isfinite(fy0) && std::isfinite(fx1) && std::isfinite(fy1)) {
      x0 = clamp_to(std::floor(fx0 + 0.5f), 0, W);
      y0 = clamp_to(std::floor(fy0 + 0.5f), 0, H);
      w = std::max(0, clamp_to(std::ceil(fx1 - 0.5f), -1, W - 1) - x0 + 1);
      h = std::max(0, clamp_to(std::ceil(fy1 - 0.5f), -1, H - 1) - y0 + 1);
    }
    a.assign(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), 0.f);
  }
  float& at(int x, int y) { return a[static_cast<std::size_t>(y - y0) * static_cast<std::size_t>(w) + (x - x0)]; }
};

// Exact area of pixel (x, y)'s square inside [ax0, ax1] x [ay0, ay1].
float rect_area(int x, int y, float ax0, float ay0, float ax1, float ay1) {
  const float ox = std::min(x + 0.5f, ax1) - std::max(x - 0.5f, ax0);
  const float oy = std::min(y + 0.5f, ay1) - std::max(y - 0.5f, ay0);
  return ox > 0.f && oy > 0.f ? ox * oy : 0.f;
}

// Adds the area of a filled rectangle to the mask (sum: for rectangles that do not overlap).
void add_rect(Mask& m, float ax0, float ay0, float ax1, float ay1) {
  const int xa = clamp_to(std::floor(ax0 + 0.5f), m.x0, m.x0 + m.w);
  const int ya = clamp_to(std::floor(ay0 + 0.5f), m.y0, m.y0 + m.h);
  const int xb = clamp_to(std::ceil(ax1 - 0.5f), m.x0 - 1, m.x0 + m.w - 1);
  const int yb = clamp_to(std::ceil(ay1 - 0.5f), m.y0 - 1, m.y0 + m.h - 1);
  for (int y = ya; y <= yb; ++y)
    for (int x = xa; x <= xb; ++x) m.at(x, y) = std::min(1.f, m.at(x, y) + rect_area(x, y, ax0, ay0, ax1, ay1));
}

// A line segment of width w with round caps (max: joints are not counted twice).
void add_segment(Mask& m, Point2f p, Point2f q, float w) {
  const float r = 0.5f * w;
  const float dx = q.x - p.x, dy = q.y - p.y, len2 = dx * dx + dy * dy;
  if (!(std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(q.x) && std::isfinite(q.y))) return;
  const int xa = clamp_to(std::floor(std::min(p.x, q.x) - r - 0.5f), m.x0, m.x0 + m.w);
  const int ya = clamp_to(std::floor(std::min(p.y, q.y) - r - 0.5f), m.y0, m.y0 + m.h);
  const int xb = clamp_to(std::ceil(std::max(p.x, q.x) + r + 0.5f), m.x0 - 1, m.x0 + m.w - 1);
  const int yb = clamp_to(std::ceil(std::max(p.y, q.y) + r + 0.5f), m.y0 - 1, m.y0 + m.h - 1);
  for (int y = ya; y <= yb; ++y)
    for (int x = xa; x <= xb; ++x) {
      float t = len2 > 0.f ? ((x - p.x) * dx + (y - p.y) * dy) / len2 : 0.f;
      t = std::clamp(t, 0.f, 1.f);
      const float ex = x - (p.x + t * dx), ey = y - (p.y + t * dy);
      // A one-pixel ramp across the edge; a line thinner than a pixel is fainter, not thicker.
      const float c = std::clamp(r + 0.5f - std::sqrt(ex * ex + ey * ey), 0.f, 1.f) * std::min(1.f, w);
      float& v = m.at(x, y);
      v = std::max(v, c);
    }
}

void add_disc(Mask& m, Point2f c, float r) { add_segment(m, c, c, 2.f * r); }

void blend(ImageView<std::uint8_t> img, const Mask& m, Color color) {
  const int ch = img.channels();
  for (int y = 0; y < m.h; ++y) {
    std::uint8_t* row = img.row(m.y0 + y);
    for (int x = 0; x < m.w; ++x) {
      const float a = m.a[static_cast<std::size_t>(y) * m.w + x] * (color.a / 255.f);
      if (a <= 0.f) continue;
      std::uint8_t* px = row + static_cast<std::ptrdiff_t>(m.x0 + x) * ch;
      const std::uint8_t src[3] = {color.r, color.g, color.b};
      for (int c = 0; c < 3; ++c) px[c] = static_cast<std::uint8_t>(std::lround(px[c] + (src[c] - px[c]) * a));
    }
  }
}

void fill_rect(ImageView<std::uint8_t> img, const Box& b, Color color) {
  if (!(b.w > 0.f && b.h > 0.f)) return;
  Mask m(b.x, b.y, b.x + b.w, b.y + b.h, img.width(), img.height());
  add_rect(m, b.x, b.y, b.x + b.w, b.y + b.h);
  blend(img, m, color);
}

// An RGBA image stretched over `area`, sampled bilinearly (edges clamped).
void draw_image(ImageView<std::uint8_t> img, const ImageU8& src, const Box& area, float alpha) {
  if (src.empty() || src.channels() != 4 || !(area.w > 0.f && area.h > 0.f)) return;
  const Mask m(area.x, area.y, area.x + area.w, area.y + area.h, img.width(), img.height());
  const int ch = img.channels();
  for (int y = m.y0; y < m.y0 + m.h; ++y) {
    std::uint8_t* row = img.row(y);
    const float sy = (y - area.y) / area.h * src.height() - 0.5f;
    for (int x = m.x0; x < m.x0 + m.w; ++x) {
      const float cover = rect_area(x, y, area.x, area.y, area.x + area.w, area.y + area.h);
      if (cover <= 0.f) continue;
      const float sx = (x - area.x) / area.w * src.width() - 0.5f;
      float s[4];
      for (int c = 0; c < 4; ++c) s[c] = sample_bilinear(src.view(), sx, sy, c, Border::Replicate);
      const float a = s[3] / 255.f * alpha * cover;
      std::uint8_t* px = row + static_cast<std::ptrdiff_t>(x) * ch;
      for (int c = 0; c < 3; ++c) px[c] = static_cast<std::uint8_t>(std::lround(px[c] + (s[c] - px[c]) * a));
    }
  }
}

}  // namespace

float text_width(const std::string& text, float height) {
  const float cell = height / 7.f;
  return text.empty() ? 0.f : (6.f * static_cast<float>(text.size()) - 1.f) * cell;
}

void draw_overlay(ImageView<std::uint8_t> image, const Overlay& overlay) {
  if (image.empty() || image.channels() < 3) throw std::invalid_argument("draw_overlay: need an RGB or RGBA image");
  if (overlay.width <= 0 || overlay.height <= 0) throw std::invalid_argument("draw_overlay: the overlay has no size");
  const int W = image.width(), H = image.height();
  // Overlay pixels -> image pixels (extents scale; pixel centres sit half a pixel in).
  const float kx = static_cast<float>(W) / overlay.width, ky = static_cast<float>(H) / overlay.height;
  const float ks = std::sqrt(kx * ky);
  auto P = [&](Point2f p) { return Point2f{(p.x + 0.5f) * kx - 0.5f, (p.y + 0.5f) * ky - 0.5f}; };
  auto B = [&](const Box& b) { return Box{(b.x + 0.5f) * kx - 0.5f, (b.y + 0.5f) * ky - 0.5f, b.w * kx, b.h * ky}; };
  using Kind = OverlayItem::Kind;
  for (const OverlayItem& it : overlay.items) {
    const float size = it.size * ks;
    switch (it.kind) {
      case Kind::FillRect: {
        fill_rect(image, B(it.area), it.color);
        break;
      }
      case Kind::Rect: {  // four bands inside the extent, which do not overlap
        const Box b = B(it.area);
        const float s = std::min(size, 0.5f * std::min(b.w, b.h));
        fill_rect(image, Box{b.x, b.y, b.w, s}, it.color);
        fill_rect(image, Box{b.x, b.y + b.h - s, b.w, s}, it.color);
        fill_rect(image, Box{b.x, b.y + s, s, b.h - 2 * s}, it.color);
        fill_rect(image, Box{b.x + b.w - s, b.y + s, s, b.h - 2 * s}, it.color);
        break;
      }
      case Kind::Polyline:
      case Kind::Dots: {
        if (it.points.empty()) break;
        std::vector<Point2f> pts;
        for (const Point2f& p : it.points) pts.push_back(P(p));
        float x0 = pts[0].x, y0 = pts[0].y, x1 = x0, y1 = y0;
        for (const Point2f& p : pts) {
          x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
        }
        const float pad = size + 1.f;
        if (it.kind == Kind::Dots) {  // a mask a disc: the points of a whole photo would need a mask as big
          for (const Point2f& p : pts) {
            Mask m(p.x - pad, p.y - pad, p.x + pad, p.y + pad, W, H);
            add_disc(m, p, size);
            blend(image, m, it.color);
          }
          break;
        }
        Mask m(x0 - pad, y0 - pad, x1 + pad, y1 + pad, W, H);
        {
          for (std::size_t i = 1; i < pts.size(); ++i) add_segment(m, pts[i - 1], pts[i], size);
          if (it.closed && pts.size() > 2) add_segment(m, pts.back(), pts.front(), size);
        }
        blend(image, m, it.color);
        break;
      }
      case Kind::Text: {
        if (it.points.empty() || it.text.empty()) break;
        const Point2f o = P(it.points[0]);
        const float o_x = o.x, o_y = o.y;
        const float cell = size / 7.f;
        Mask m(o_x, o_y, o_x + text_width(it.text, size), o_y + size, W, H);
        for (std::size_t i = 0; i < it.text.size(); ++i) {
          const Glyph* g = glyph(it.text[i]);
          if (!g) continue;
          const float gx = o_x + 6.f * cell * static_cast<float>(i);
          for (int r = 0; r < 7; ++r)
            for (int c = 0; c < 5; ++c)
              if (g->rows[r] & (0x10 >> c))
                add_rect(m, gx + c * cell, o_y + r * cell, gx + (c + 1) * cell, o_y + (r + 1) * cell);
        }
        blend(image, m, it.color);
        break;
      }
      case Kind::Image:
        draw_image(image, it.image, B(it.area), it.color.a / 255.f);
        break;
    }
  }
}

}  // namespace facekeys
