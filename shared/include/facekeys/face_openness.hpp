// How open the eyes and the mouth are, from 68 points (ibug68's numbering):
// ratios of distances, so they do not depend on the face's size in the photo.
//
//   eye aspect ratio (Soukupova and Cech, "Real-Time Eye Blink Detection using
//   Facial Landmarks", 2016): (|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|) over an
//   eye's six points p1..p6 (the person's right eye 36-41, left eye 42-47);
//   about 0.25-0.35 open, under 0.15 closed.
//   mouth: the same over the inner lips, (|61 - 67| + |62 - 66| + |63 - 65|) /
//   (3 |60 - 64|); 0 closed, about 0.5 and more wide open.
// "left" and "right" are the person's, as in the schema's point names.
#pragma once

#include <vector>

#include "facekeys/geometry.hpp"

namespace facekeys {

struct FaceOpenness {
  double left_eye = 0, right_eye = 0, mouth = 0;
};

// False when a point it needs is not finite or a width is zero.
bool face_openness(const std::vector<Point2f>& points68, FaceOpenness& out);

}  // namespace facekeys
