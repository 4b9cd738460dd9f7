// The core's rasteriser: draws an overlay's primitives (overlay.hpp) onto an
// image, anti-aliased, with no graphics library. `facekeys predict --overlay`,
// `facekeys report` and the page's "Export PNG" all draw through it, so the
// same result gives the same pixels natively and in the browser (a test
// compares them: tests/web).
//
// Coverage is computed per pixel from the pixel's square [i - 0.5, i + 0.5]
// (crop.hpp's convention): exactly for rectangles and text cells, by the
// distance of the pixel centre for discs and lines (a one-pixel ramp). Each
// item is blended once (source over, its colour's alpha times the coverage),
// so a polyline's joints are not darker than its segments.
#pragma once

#include "facekeys/image.hpp"
#include "facekeys/overlay.hpp"

namespace facekeys {

// Draws every item of `overlay` onto `image` (RGB or RGBA; an RGBA image keeps
// its alpha). The image may be a scaled copy of the overlay's size (a photo
// decoded at reduced scale): coordinates and sizes are scaled by
// image.width / overlay.width (and height). Throws std::invalid_argument on a
// gray image or an overlay without a size.
void draw_overlay(ImageView<std::uint8_t> image, const Overlay& overlay);

}  // namespace facekeys
